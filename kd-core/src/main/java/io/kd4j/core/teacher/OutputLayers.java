package io.kd4j.core.teacher;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Reads and rewrites the loss and activation of a DL4J output-layer configuration
 * ({@code OutputLayer}, {@code RnnOutputLayer}, {@code LossLayer}, {@code RnnLossLayer}).
 */
public final class OutputLayers {
    private OutputLayers() {
    }

    /** Whether the layer configuration is an output layer with a loss function. */
    public static boolean isOutputLayer(Layer layer) {
        return layer instanceof BaseOutputLayer || layer instanceof LossLayer || layer instanceof RnnLossLayer;
    }

    /** The output layer configuration of a layer conf, or an error naming where it was expected. */
    public static Layer require(NeuralNetConfiguration conf, String where) {
        Layer layer = conf.getLayer();
        if (!isOutputLayer(layer)) {
            throw new IllegalArgumentException(where + " must be an output layer (OutputLayer, RnnOutputLayer, "
                    + "LossLayer or RnnLossLayer), got " + layer.getClass().getSimpleName());
        }
        return layer;
    }

    /** Sets the activation function of an output layer configuration. */
    public static void setActivation(Layer layer, IActivation activation) {
        ((org.deeplearning4j.nn.conf.layers.BaseLayer) layer).setActivationFn(activation);
    }

    /** Sets the loss function of an output layer configuration. */
    public static void setLoss(Layer layer, ILossFunction loss) {
        if (layer instanceof BaseOutputLayer o) {
            o.setLossFn(loss);
        } else if (layer instanceof LossLayer l) {
            l.setLossFn(loss);
        } else if (layer instanceof RnnLossLayer r) {
            r.setLossFn(loss);
        } else {
            throw new IllegalArgumentException("not an output layer: " + layer.getClass().getSimpleName());
        }
    }

    /**
     * The number of output units of an output layer configuration: its nOut; for a parameterless
     * {@code LossLayer} or {@code RnnLossLayer}, whose output is its input and whose nOut DL4J leaves at 0,
     * its input width nIn (which DL4J sets when the configuration is built with {@code setInputType});
     * 0 when neither is known.
     */
    public static long outputs(Layer layer) {
        if (layer instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer f) {
            if (f.getNOut() <= 0 && (layer instanceof LossLayer || layer instanceof RnnLossLayer)) {
                return Math.max(0, f.getNIn());
            }
            return f.getNOut();
        }
        return 0;
    }

    /** The error for an output layer whose width is unknown ({@link #outputs} returned {@code n < 1}). */
    public static IllegalArgumentException unknownWidth(Layer layer, long n) {
        String hint = layer instanceof LossLayer || layer instanceof RnnLossLayer
                ? "; a " + layer.getClass().getSimpleName() + " has no nOut of its own: build the configuration with "
                        + "setInputType(...) so that DL4J sets its input width"
                : "";
        return new IllegalArgumentException("the student's output layer must declare nOut >= 1, got " + n + hint);
    }
}
