package io.kd4j.losses.dl4j;

import io.kd4j.losses.kernels.DenseRows;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The fused result of a gradient call, kept for the score call of the same training step.
 *
 * <p>On every step DL4J's {@code MultiLayerNetwork} and {@code ComputationGraph} call the output layer's
 * {@code computeGradient} and then {@code computeScore} with the same labels and pre-outputs (computed
 * again, so an equal array, not the same one), which would run the kernel twice. A memo remembers copies
 * of the inputs of the gradient call; {@link #recall} returns the remembered value only when the new
 * inputs have the same data type, shape and contents (bit for bit; the mask as well), so different
 * inputs never get it. Batches of more than {@value #MAX_VALUES} pre-output values are not remembered:
 * their copies would cost memory (as much as the batch) and the comparison a pass over the data.
 *
 * @param <T> the remembered value
 */
final class StepMemo<T> {
    /** The largest batch (pre-output values) remembered. */
    static final long MAX_VALUES = 1L << 20;

    private final Snapshot preOutput;
    private final Snapshot labels;
    private final Snapshot mask;
    private final T value;

    private StepMemo(Snapshot preOutput, Snapshot labels, Snapshot mask, T value) {
        this.preOutput = preOutput;
        this.labels = labels;
        this.mask = mask;
        this.value = value;
    }

    /** A memo of {@code value} for these inputs, or {@code null} when the batch is too large to remember. */
    static <T> StepMemo<T> remember(INDArray labels, INDArray preOutput, INDArray mask, T value) {
        if (preOutput.length() > MAX_VALUES || labels.length() > 4 * MAX_VALUES) {
            return null;
        }
        return new StepMemo<>(Snapshot.of(preOutput), Snapshot.of(labels), mask == null ? null : Snapshot.of(mask),
                value);
    }

    /** The remembered value if these inputs equal the remembered ones, else {@code null}. */
    T recall(INDArray labels, INDArray preOutput, INDArray mask) {
        if ((mask == null) != (this.mask == null) || !this.preOutput.sameAs(preOutput) || !this.labels.sameAs(labels)
                || (mask != null && !this.mask.sameAs(mask))) {
            return null;
        }
        return value;
    }

    /** Data type, shape and contents (row-major) of an array. */
    private record Snapshot(DataType type, long[] shape, float[] floats, double[] doubles) {
        static Snapshot of(INDArray a) {
            INDArray c = DenseRows.plain(a);
            boolean single = a.dataType() == DataType.FLOAT;
            return new Snapshot(a.dataType(), a.shape(), single ? c.data().asFloat() : null,
                    single ? null : c.data().asDouble());
        }

        boolean sameAs(INDArray a) {
            if (a.dataType() != type || !Arrays.equals(a.shape(), shape)) {
                return false;
            }
            INDArray c = DenseRows.plain(a);
            return floats != null ? Arrays.equals(floats, c.data().asFloat()) : Arrays.equals(doubles, c.data().asDouble());
        }
    }
}
