package io.kd4j.core.student;

import io.kd4j.core.teacher.OutputLayers;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/** A MultiLayerNetwork student. */
final class MultiLayerStudent implements Student {
    private final MultiLayerNetwork network;
    private final int classes;

    MultiLayerStudent(MultiLayerNetwork network) {
        this.network = Objects.requireNonNull(network, "student network must not be null");
        if (network.params() == null) {
            throw new IllegalArgumentException("student network has no parameters: call init() first");
        }
        MultiLayerConfiguration conf = network.getLayerWiseConfigurations();
        Layer out = OutputLayers.require(conf.getConf(conf.getConfs().size() - 1), "the student's last layer");
        long n = OutputLayers.outputs(out);
        if (n < 1) {
            throw OutputLayers.unknownWidth(out, n);
        }
        this.classes = (int) n;
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public long numParams() {
        return network.numParams();
    }

    @Override
    public String describe() {
        return "MultiLayerNetwork student (" + network.getnLayers() + " layers, " + numParams() + " parameters)";
    }

    @Override
    public Model network() {
        return network;
    }

    @Override
    public TrainingModel trainingModel(ILossFunction loss) {
        MultiLayerConfiguration conf = network.getLayerWiseConfigurations().clone();
        Layer out = conf.getConf(conf.getConfs().size() - 1).getLayer();
        OutputLayers.setLoss(out, loss);
        OutputLayers.setActivation(out, new ActivationIdentity());
        MultiLayerNetwork copy = new MultiLayerNetwork(conf);
        copy.init(network.params().dup(), false);
        MultiLayerConfiguration plainConf = network.getLayerWiseConfigurations();
        return new NetworkTraining<>(copy, params -> {
            MultiLayerNetwork plain = new MultiLayerNetwork(plainConf.clone());
            plain.init(params, false);
            return plain;
        });
    }
}
