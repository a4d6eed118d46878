package io.kd4j.core.teacher;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen MultiLayerNetwork teacher. It runs a private inference copy of the network whose output
 * activation is the identity (so it returns logits), on a copy of the parameters: the caller's
 * network is never touched and the copy is never trained.
 */
final class MultiLayerTeacher implements Teacher {
    private final MultiLayerNetwork logitNet;
    private final String fingerprint;
    private final String description;

    MultiLayerTeacher(MultiLayerNetwork network) {
        Objects.requireNonNull(network, "teacher network must not be null");
        INDArray params = network.params();
        if (params == null) {
            throw new IllegalArgumentException("teacher network has no parameters: call init() and train it first");
        }
        MultiLayerConfiguration conf = network.getLayerWiseConfigurations().clone();
        int last = conf.getConfs().size() - 1;
        Layer out = OutputLayers.require(conf.getConf(last), "the teacher's last layer");
        OutputLayers.setActivation(out, new ActivationIdentity());
        this.logitNet = new MultiLayerNetwork(conf);
        this.logitNet.init(params.dup(), false);
        this.fingerprint = Fingerprints.of(network.getLayerWiseConfigurations().toJson(), params);
        this.description = "MultiLayerNetwork teacher (" + conf.getConfs().size() + " layers, " + params.length()
                + " parameters, fingerprint " + fingerprint + ")";
    }

    @Override
    public synchronized INDArray logits(TeacherBatch batch) {
        return logitNet.output(batch.features(), false, batch.featuresMask(), null);
    }

    @Override
    public synchronized Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        List<INDArray> all = logitNet.feedForward(batch.features(), false);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : layers) {
            int index;
            try {
                index = Integer.parseInt(name.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("MultiLayerNetwork taps are layer indices, got '" + name + "'");
            }
            if (index < 0 || index >= all.size() - 1) {
                throw new IllegalArgumentException("layer index must be in [0, " + (all.size() - 2) + "], got " + index);
            }
            out.put(name, all.get(index + 1));
        }
        return out;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    /** The parameters of the private inference copy (for tests of immutability). */
    INDArray inferenceParams() {
        return logitNet.params();
    }
}
