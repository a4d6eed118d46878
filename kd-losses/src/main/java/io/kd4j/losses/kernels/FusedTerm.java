package io.kd4j.losses.kernels;

import io.kd4j.losses.api.Checks;
import java.util.Objects;

/**
 * One weighted term of a {@link FusedObjective}, with its hyperparameters resolved for one evaluation
 * (a temperature schedule is read at the batch's epoch before the kernel runs).
 *
 * @param kind which loss; the formulas are those of the catalogue class of the same name
 * @param weight the term's weight in the objective, finite and &gt;= 0
 * @param temperature the temperature {@code T} &gt; 0 (1 for {@link Kind#CROSS_ENTROPY})
 * @param teacherMixWeight β of {@link Kind#GENERALIZED_JSD} in [0, 1] (0 for the other kinds)
 * @param labelSmoothing e of {@link Kind#CROSS_ENTROPY} in [0, 1) (0 for the other kinds)
 */
public record FusedTerm(Kind kind, double weight, double temperature, double teacherMixWeight, double labelSmoothing) {

    /** The losses the fused kernels implement. */
    public enum Kind {
        /** {@link io.kd4j.losses.logit.CrossEntropy}: hard labels, optional label smoothing. */
        CROSS_ENTROPY,
        /** {@link io.kd4j.losses.logit.SoftTargetKl}: {@code T² KL(p ‖ q)}, gradient {@code T (q - p)}. */
        SOFT_TARGET_KL,
        /** {@link io.kd4j.losses.logit.ReverseKl}: {@code KL(q ‖ p)}, no {@code T²}. */
        REVERSE_KL,
        /** {@link io.kd4j.losses.logit.TotalVariation}: {@code 0.5 Σ |p - q|}, no {@code T²}. */
        TOTAL_VARIATION,
        /** {@link io.kd4j.losses.logit.GeneralizedJsd} (and {@code JensenShannon} at β = 0.5), no {@code T²}. */
        GENERALIZED_JSD
    }

    public FusedTerm {
        Objects.requireNonNull(kind, "kind must not be null");
        if (!Double.isFinite(weight) || weight < 0) {
            throw new IllegalArgumentException("weight must be finite and >= 0, got " + weight);
        }
        Checks.positive("temperature", temperature);
        Checks.inRange("teacherMixWeight", teacherMixWeight, 0.0, 1.0);
        Checks.inRange("labelSmoothing", labelSmoothing, 0.0, 1.0);
        if (labelSmoothing == 1.0) {
            throw new IllegalArgumentException("labelSmoothing must be < 1, got 1.0");
        }
    }

    /** Cross-entropy with hard labels. */
    public static FusedTerm crossEntropy(double weight, double labelSmoothing) {
        return new FusedTerm(Kind.CROSS_ENTROPY, weight, 1.0, 0.0, labelSmoothing);
    }

    /** Hinton's soft-target KL at temperature {@code T}. */
    public static FusedTerm softTargetKl(double weight, double temperature) {
        return new FusedTerm(Kind.SOFT_TARGET_KL, weight, temperature, 0.0, 0.0);
    }

    /** Reverse KL at temperature {@code T}. */
    public static FusedTerm reverseKl(double weight, double temperature) {
        return new FusedTerm(Kind.REVERSE_KL, weight, temperature, 0.0, 0.0);
    }

    /** Total variation at temperature {@code T}. */
    public static FusedTerm totalVariation(double weight, double temperature) {
        return new FusedTerm(Kind.TOTAL_VARIATION, weight, temperature, 0.0, 0.0);
    }

    /** Generalized JSD with teacher weight β at temperature {@code T}. */
    public static FusedTerm generalizedJsd(double weight, double temperature, double teacherMixWeight) {
        return new FusedTerm(Kind.GENERALIZED_JSD, weight, temperature, teacherMixWeight, 0.0);
    }

    /** Whether the term reads the teacher's logits. */
    public boolean needsTeacher() {
        return kind != Kind.CROSS_ENTROPY;
    }
}
