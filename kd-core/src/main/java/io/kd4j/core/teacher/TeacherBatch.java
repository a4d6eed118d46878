package io.kd4j.core.teacher;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One batch as a teacher sees it: features, optional features mask, and the position of its first
 * example in the data set's order (cached teachers use it as a fast-path hint).
 *
 * @param features the batch's features
 * @param featuresMask the features mask (sequences), or {@code null}
 * @param firstExample the index of the first example of the batch in the data order, &gt;= 0
 */
public record TeacherBatch(INDArray features, INDArray featuresMask, long firstExample) {
    public TeacherBatch {
        Objects.requireNonNull(features, "features must not be null");
        if (firstExample < 0) {
            throw new IllegalArgumentException("firstExample must be >= 0, got " + firstExample);
        }
    }

    /** Number of examples in the batch. */
    public int size() {
        return (int) features.size(0);
    }
}
