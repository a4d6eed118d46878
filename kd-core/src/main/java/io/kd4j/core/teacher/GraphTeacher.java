package io.kd4j.core.teacher;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen single-output ComputationGraph teacher, run as a private inference copy with an identity
 * output activation (logits) on a copy of the parameters.
 */
final class GraphTeacher implements Teacher {
    private final ComputationGraph logitNet;
    private final String fingerprint;
    private final String description;

    GraphTeacher(ComputationGraph graph) {
        Objects.requireNonNull(graph, "teacher graph must not be null");
        INDArray params = graph.params();
        if (params == null) {
            throw new IllegalArgumentException("teacher graph has no parameters: call init() and train it first");
        }
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        List<String> outputs = conf.getNetworkOutputs();
        if (outputs.size() != 1) {
            throw new IllegalArgumentException("teacher graph must have exactly one output, got " + outputs);
        }
        GraphVertex v = conf.getVertices().get(outputs.get(0));
        if (!(v instanceof LayerVertex lv)) {
            throw new IllegalArgumentException("teacher graph output '" + outputs.get(0) + "' must be a layer vertex");
        }
        OutputLayers.setActivation(OutputLayers.require(lv.getLayerConf(), "teacher graph output '" + outputs.get(0) + "'"),
                new ActivationIdentity());
        this.logitNet = new ComputationGraph(conf);
        this.logitNet.init(params.dup(), false);
        this.fingerprint = Fingerprints.of(graph.getConfiguration().toJson(), params);
        this.description = "ComputationGraph teacher (" + conf.getVertices().size() + " vertices, " + params.length()
                + " parameters, fingerprint " + fingerprint + ")";
    }

    @Override
    public synchronized INDArray logits(TeacherBatch batch) {
        INDArray[] masks = batch.featuresMask() == null ? null : new INDArray[] {batch.featuresMask()};
        return logitNet.output(false, new INDArray[] {batch.features()}, masks)[0];
    }

    @Override
    public synchronized Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        Map<String, INDArray> all = logitNet.feedForward(batch.features(), false);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : layers) {
            INDArray a = all.get(name);
            if (a == null) {
                throw new IllegalArgumentException("teacher graph has no vertex '" + name + "'; vertices: " + all.keySet());
            }
            out.put(name, a);
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
}
