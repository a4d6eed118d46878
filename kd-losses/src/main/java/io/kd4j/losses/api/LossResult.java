package io.kd4j.losses.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loss value, its gradient with respect to the student logits, and its named terms.
 *
 * @param value the loss value (mean over valid rows, see {@link DistillationLoss})
 * @param studentGradient {@code d value / d studentLogits}, shaped and typed like the student logits
 * @param terms named parts of the value (e.g. {@code tckd}, {@code nckd}); empty for a single-term loss
 */
public record LossResult(double value, INDArray studentGradient, Map<String, Double> terms) {

    public LossResult {
        Objects.requireNonNull(studentGradient, "studentGradient must not be null");
        terms = Collections.unmodifiableMap(new LinkedHashMap<>(terms));
    }

    public LossResult(double value, INDArray studentGradient) {
        this(value, studentGradient, Map.of());
    }
}
