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

    /** The number of output units of an output layer configuration (nOut; 0 when it has none). */
    public static long outputs(Layer layer) {
        if (layer instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer f) {
            return f.getNOut();
        }
        return 0;
    }
}
