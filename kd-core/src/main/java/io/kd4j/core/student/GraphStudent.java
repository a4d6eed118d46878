package io.kd4j.core.student;

import io.kd4j.core.teacher.OutputLayers;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/** A single-output ComputationGraph student. */
final class GraphStudent implements Student {
    private final ComputationGraph graph;
    private final String outputName;
    private final int classes;

    GraphStudent(ComputationGraph graph) {
        this.graph = Objects.requireNonNull(graph, "student graph must not be null");
        if (graph.params() == null) {
            throw new IllegalArgumentException("student graph has no parameters: call init() first");
        }
        List<String> outputs = graph.getConfiguration().getNetworkOutputs();
        if (outputs.size() != 1) {
            throw new IllegalArgumentException("student graph must have exactly one output, got " + outputs);
        }
        this.outputName = outputs.get(0);
        long n = OutputLayers.outputs(outputLayer(graph.getConfiguration(), outputName));
        if (n < 1) {
            throw OutputLayers.unknownWidth(outputLayer(graph.getConfiguration(), outputName), n);
        }
        this.classes = (int) n;
    }

    private static Layer outputLayer(ComputationGraphConfiguration conf, String name) {
        GraphVertex v = conf.getVertices().get(name);
        if (!(v instanceof LayerVertex lv)) {
            throw new IllegalArgumentException("student graph output '" + name + "' must be a layer vertex");
        }
        return OutputLayers.require(lv.getLayerConf(), "student graph output '" + name + "'");
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public long numParams() {
        return graph.numParams();
    }

    @Override
    public String describe() {
        return "ComputationGraph student (" + graph.getNumLayers() + " layers, " + numParams() + " parameters)";
    }

    @Override
    public Model network() {
        return graph;
    }

    @Override
    public TrainingModel trainingModel(ILossFunction loss) {
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        Layer out = outputLayer(conf, outputName);
        OutputLayers.setLoss(out, loss);
        OutputLayers.setActivation(out, new ActivationIdentity());
        ComputationGraph copy = new ComputationGraph(conf);
        copy.init(graph.params().dup(), false);
        ComputationGraphConfiguration plainConf = graph.getConfiguration();
        return new NetworkTraining<>(copy, params -> {
            ComputationGraph plain = new ComputationGraph(plainConf.clone());
            plain.init(params, false);
            return plain;
        });
    }
}
