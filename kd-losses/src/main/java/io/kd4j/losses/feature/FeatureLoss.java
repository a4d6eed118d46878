package io.kd4j.losses.feature;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import java.util.Set;

/**
 * Base of the feature (intermediate-representation) losses: one function returns the value and its
 * analytic gradient with respect to the student's features, so that the two cannot drift.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Inputs are activations of a tapped student layer (after any adapter) and of a tapped teacher
 *       layer: dense {@code [batch, features]}, convolutional {@code [batch, channels, h, w]} or
 *       recurrent {@code [batch, size, time]} with an optional {@code [batch, time]} mask. Each loss
 *       states which of these it accepts and what must agree between student and teacher.</li>
 *   <li>The value and the reduction follow the reference code named in each loss's Javadoc
 *       (RepDistiller {@code distiller_zoo}, mdistiller, TinyBERT, DistilBERT); a loss weight (e.g.
 *       RepDistiller's {@code beta = 1000} for AT) belongs to the objective, not to the loss.</li>
 *   <li>The gradient is {@code d value / d studentFeatures}, same shape and data type as the student
 *       features, zero at masked steps; the teacher is a constant.</li>
 *   <li>Computation is in double precision for float32 and float64 inputs.</li>
 * </ul>
 *
 * <p>Feature losses are catalogue entries like the logit losses, but they are not terms of a logit
 * {@code Objective} (which rejects them): kd-core gives each tap its own loss.
 */
public abstract class FeatureLoss implements DistillationLoss {
    private static final Set<InputKind> INPUTS = Set.of(InputKind.STUDENT_FEATURES, InputKind.TEACHER_FEATURES);

    @Override
    public Set<InputKind> requiredInputs() {
        return INPUTS;
    }

    /** Always an error: a feature loss reads features, not logits; use {@link #compute(FeatureInput)}. */
    @Override
    public final LossResult compute(LossInput input) {
        throw new IllegalArgumentException(name() + " is a feature loss: it reads student_features and "
                + "teacher_features; call compute(FeatureInput) instead of compute(LossInput)");
    }

    /** Validates the input, computes value, gradient with respect to the student features, and terms. */
    public final LossResult compute(FeatureInput input) {
        FeatureBatch batch = FeatureBatch.from(input, name());
        FeatureResult r = evaluate(batch);
        return new LossResult(r.value(), batch.scatter(r.gradient()), r.terms());
    }

    /**
     * Checks this loss's shape rule on {@code batch} and returns the value and its gradient with
     * respect to {@code batch.student()} (flat, row-major).
     */
    public abstract FeatureResult evaluate(FeatureBatch batch);

    /**
     * Called once per training step after the gradient has been taken, for losses that keep state
     * across steps (CRD's bounded memory of negatives). Does nothing by default.
     */
    public void afterStep(FeatureBatch batch) {
    }

    @Override
    public String toString() {
        return describe();
    }
}
