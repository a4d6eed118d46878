package io.kd4j.losses.feature;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The inputs of one feature-loss evaluation: the student's and the teacher's activations at a pair
 * of tapped layers, and for recurrent {@code [batch, size, time]} activations an optional
 * {@code [batch, time]} mask (1 = valid step).
 *
 * <p>Shapes: dense {@code [batch, features]}, convolutional {@code [batch, channels, h, w]},
 * recurrent {@code [batch, size, time]}. What must agree between student and teacher is each loss's
 * rule (same shape, same spatial size, or only the same batch); see the loss's Javadoc.
 *
 * @param studentFeatures the student's activations (the gradient is taken with respect to these)
 * @param teacherFeatures the teacher's activations (constants)
 * @param mask {@code [batch, time]} for rank-3 features, or {@code null} (all steps valid)
 */
public record FeatureInput(INDArray studentFeatures, INDArray teacherFeatures, INDArray mask) {

    public FeatureInput {
        Objects.requireNonNull(studentFeatures, "student_features must not be null");
        Objects.requireNonNull(teacherFeatures, "teacher_features must not be null");
    }

    /** Student and teacher features without a mask. */
    public static FeatureInput of(INDArray studentFeatures, INDArray teacherFeatures) {
        return new FeatureInput(studentFeatures, teacherFeatures, null);
    }
}
