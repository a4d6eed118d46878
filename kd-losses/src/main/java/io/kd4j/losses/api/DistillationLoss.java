package io.kd4j.losses.api;

import java.util.Map;

/**
 * A distillation loss: one function that returns the loss value <em>and</em> its analytic gradient
 * with respect to the student's logits, so that the two can never drift apart.
 *
 * <h2>Conventions (shared by every loss in the catalogue)</h2>
 * <ul>
 *   <li>Inputs are <b>logits</b> (pre-softmax), never probabilities.</li>
 *   <li>Shapes: {@code [batch, classes]}, or sequences {@code [batch, classes, time]} with an
 *       optional {@code [batch, time]} mask (1 = valid position).</li>
 *   <li>The value is the <b>mean over valid rows</b> (batch mean; token mean over the valid
 *       positions of a sequence), as in mdistiller/RepDistiller ({@code batchmean}) and TRL.</li>
 *   <li>Temperature-scaled divergences multiply by {@code T²} after the mean, as in Hinton et al. and
 *       the reference code, unless the loss's Javadoc says otherwise.</li>
 *   <li>The gradient is {@code d value / d studentLogits}, same shape and data type as the student
 *       logits; masked positions get a zero gradient.</li>
 *   <li>Computation is carried out in double precision internally for float32 and float64 inputs.</li>
 * </ul>
 */
public interface DistillationLoss {

    /** The catalogue name of this loss, e.g. {@code SoftTargetKl}. */
    String name();

    /** The hyperparameters of this loss, by name, as reported in logs and provenance. */
    Map<String, Object> hyperparameters();

    /** Which inputs this loss reads; {@link #compute} rejects a missing one with a clear error. */
    java.util.Set<InputKind> requiredInputs();

    /** Computes value, gradient with respect to the student's logits, and named terms. */
    LossResult compute(LossInput input);

    /** The loss as a formula-like string, e.g. {@code SoftTargetKl(temperature=4.0)}. */
    default String describe() {
        StringBuilder b = new StringBuilder(name()).append('(');
        boolean first = true;
        for (Map.Entry<String, Object> e : hyperparameters().entrySet()) {
            if (!first) {
                b.append(", ");
            }
            b.append(e.getKey()).append('=').append(e.getValue());
            first = false;
        }
        return b.append(')').toString();
    }
}
