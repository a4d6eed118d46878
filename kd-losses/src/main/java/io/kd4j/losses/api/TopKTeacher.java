package io.kd4j.losses.api;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A sparse teacher distribution, as DistillKit stores it for large vocabularies: for each row, the
 * indices of the teacher's top-k classes, the teacher's <em>log-probabilities</em> of those classes
 * (log-softmax over the full vocabulary), and implicitly the remaining probability mass
 * {@code 1 - sum(exp(logProbs))} spread over the other classes. The sparse losses take these as the
 * teacher's distribution at the loss temperature, unless their {@code teacherTemperature} parameter
 * names the temperature the values were stored at (then they are re-tempered, as DistillKit does).
 *
 * @param indices class indices {@code [batch, k]} or {@code [batch, k, time]} (integral values)
 * @param logProbs teacher log-probabilities of those classes, same shape as {@code indices}
 */
public record TopKTeacher(INDArray indices, INDArray logProbs) {
    public TopKTeacher {
        Objects.requireNonNull(indices, "teacher top-k indices must not be null");
        Objects.requireNonNull(logProbs, "teacher top-k logProbs must not be null");
        if (!java.util.Arrays.equals(indices.shape(), logProbs.shape())) {
            throw new IllegalArgumentException("teacher top-k indices and logProbs must have the same shape, got "
                    + java.util.Arrays.toString(indices.shape()) + " and " + java.util.Arrays.toString(logProbs.shape()));
        }
    }

    /** k, the number of stored classes per row. */
    public int k() {
        return (int) indices.size(1);
    }
}
