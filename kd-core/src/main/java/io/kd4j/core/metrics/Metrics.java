package io.kd4j.core.metrics;

import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** Evaluation metrics on any DL4J model and labelled iterator (one-hot labels). */
public final class Metrics {
    private Metrics() {
    }

    /** Top-1 accuracy of {@code model} on {@code data} (reset before and after). */
    public static double accuracy(Model model, DataSetIterator data) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(data, "data must not be null");
        data.reset();
        long correct = 0;
        long total = 0;
        while (data.hasNext()) {
            DataSet ds = data.next();
            INDArray out = output(model, ds.getFeatures());
            INDArray predicted = out.argMax(1);
            INDArray actual = ds.getLabels().argMax(1);
            for (long i = 0; i < predicted.length(); i++) {
                if (predicted.getLong(i) == actual.getLong(i)) {
                    correct++;
                }
            }
            total += predicted.length();
        }
        data.reset();
        if (total == 0) {
            throw new IllegalArgumentException("evaluation iterator is empty");
        }
        return correct / (double) total;
    }

    /** Inference-mode output of a MultiLayerNetwork or single-output ComputationGraph. */
    public static INDArray output(Model model, INDArray features) {
        if (model instanceof MultiLayerNetwork m) {
            return m.output(features, false);
        }
        if (model instanceof ComputationGraph g) {
            return g.outputSingle(false, features);
        }
        throw new IllegalArgumentException("unsupported model type " + model.getClass().getName());
    }
}
