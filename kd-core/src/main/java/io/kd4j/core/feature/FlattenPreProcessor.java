package io.kd4j.core.feature;

import java.util.Arrays;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Flattens each example of a dense, convolutional or recurrent activation to one row,
 * {@code [batch, d1, d2, ...] → [batch, d1·d2·...]} in row-major order (as {@code f.view(B, -1)}),
 * and reshapes the gradient back. Unlike DL4J's CNN/RNN-to-feed-forward preprocessors it keeps one
 * row per example, so batch-relational feature losses see whole examples.
 */
public final class FlattenPreProcessor implements InputPreProcessor {
    private static final long serialVersionUID = 1L;

    @JsonProperty("shape")
    private final long[] shape;

    /** @param shape the per-example shape (without the batch dimension) */
    @JsonCreator
    public FlattenPreProcessor(@JsonProperty("shape") long[] shape) {
        this.shape = shape.clone();
    }

    private long width() {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        long[] expected = new long[shape.length + 1];
        expected[0] = input.size(0);
        System.arraycopy(shape, 0, expected, 1, shape.length);
        if (!Arrays.equals(input.shape(), expected)) {
            throw new IllegalArgumentException("feature tap expects activations " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(input.shape()));
        }
        INDArray c = input.dup('c');
        return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, c.reshape('c', input.size(0), width()));
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        long[] full = new long[shape.length + 1];
        full[0] = output.size(0);
        System.arraycopy(shape, 0, full, 1, shape.length);
        INDArray c = output.dup('c').reshape('c', full);
        return workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, c);
    }

    @Override
    public InputPreProcessor clone() {
        return new FlattenPreProcessor(shape);
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        return InputType.feedForward(width());
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        // step masks of recurrent taps travel inside the head's labels; the head sees whole examples
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlattenPreProcessor f && Arrays.equals(f.shape, shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape);
    }
}
