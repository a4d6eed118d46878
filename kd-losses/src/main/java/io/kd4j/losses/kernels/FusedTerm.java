package io.kd4j.losses.kernels;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.logit.Ltkd;
import java.util.Objects;

/**
 * One weighted term of a {@link FusedObjective}, with its hyperparameters resolved for one evaluation
 * (a temperature schedule or a warm-up is read at the batch's epoch before the kernel runs).
 *
 * @param kind which loss; the formulas are those of the catalogue class of the same name
 * @param weight the term's weight in the objective, finite and &gt;= 0
 * @param temperature the temperature {@code T} &gt; 0 (1 for {@link Kind#CROSS_ENTROPY})
 * @param parameters the kind's own hyperparameters ({@link NoParameters} for KD, reverse KL and TVD)
 * @param standardize whether the term sees the z-scores of both rows
 *     ({@link io.kd4j.losses.logit.StandardizedLogits}; KD and DKD only)
 */
public record FusedTerm(Kind kind, double weight, double temperature, Parameters parameters, boolean standardize) {

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
        GENERALIZED_JSD,
        /** {@link io.kd4j.losses.logit.Dkd}: {@code w T² (α TCKD + β NCKD)}, reads hard labels. */
        DKD,
        /** {@link io.kd4j.losses.logit.Ltkd}: rebalanced cross-group KL + within-group KLs, {@code T²}. */
        LTKD,
        /** {@link io.kd4j.losses.logit.SparseTopKKl}: forward KL against a top-k teacher over k + 1 bins, {@code T²}. */
        SPARSE_TOP_K_KL,
        /** {@link io.kd4j.losses.logit.SparseTopKTvd}: TVD against a top-k teacher over k + 1 bins, no {@code T²}. */
        SPARSE_TOP_K_TVD
    }

    /** The hyperparameters of one kind of term. */
    public sealed interface Parameters permits NoParameters, LabelSmoothing, TeacherMix, DkdWeights, LtkdGroups,
            SparseTeacher {
    }

    /** No hyperparameters beyond weight and temperature. */
    public record NoParameters() implements Parameters {
    }

    /** @param labelSmoothing e of cross-entropy, in [0, 1) */
    public record LabelSmoothing(double labelSmoothing) implements Parameters {
        public LabelSmoothing {
            Checks.inRange("labelSmoothing", labelSmoothing, 0.0, 1.0);
            if (labelSmoothing == 1.0) {
                throw new IllegalArgumentException("labelSmoothing must be < 1, got 1.0");
            }
        }
    }

    /** @param teacherMixWeight β of the generalized JSD, in [0, 1] */
    public record TeacherMix(double teacherMixWeight) implements Parameters {
        public TeacherMix {
            Checks.inRange("teacherMixWeight", teacherMixWeight, 0.0, 1.0);
        }
    }

    /**
     * @param targetWeight α, the weight of TCKD, &gt;= 0
     * @param nonTargetWeight β, the weight of NCKD, &gt;= 0
     * @param warmupFactor DKD's warm-up factor {@code min(epoch / warmupEpochs, 1)} at this batch, in [0, 1]
     */
    public record DkdWeights(double targetWeight, double nonTargetWeight, double warmupFactor) implements Parameters {
        public DkdWeights {
            Checks.nonNegative("targetWeight", targetWeight);
            Checks.nonNegative("nonTargetWeight", nonTargetWeight);
            Checks.inRange("warmupFactor", warmupFactor, 0.0, 1.0);
        }
    }

    /** @param teacherTemperature 0, or the temperature the stored top-k log-probabilities were taken at (&gt;= 0) */
    public record SparseTeacher(double teacherTemperature) implements Parameters {
        public SparseTeacher {
            Checks.nonNegative("teacherTemperature", teacherTemperature);
        }
    }

    /**
     * LTKD's class groups and weights. The group of each class is 0 (head), 1 (medium) or 2 (tail).
     */
    public static final class LtkdGroups implements Parameters {
        private final Ltkd loss;
        private final int[] group;
        private final int[] sizes = new int[3];
        private final float[] codes;
        private final int[] blockGroup;

        /** The groups and weights of a catalogue {@link Ltkd}. */
        public LtkdGroups(Ltkd loss) {
            this.loss = Objects.requireNonNull(loss, "loss must not be null");
            Ltkd.Group[] g = loss.groups();
            this.group = new int[g.length];
            this.codes = new float[g.length];
            for (int c = 0; c < g.length; c++) {
                group[c] = g[c].ordinal();
                codes[c] = group[c];
                sizes[group[c]]++;
            }
            this.blockGroup = new int[(g.length + RowKernel.BLOCK - 1) / RowKernel.BLOCK];
            for (int b = 0; b < blockGroup.length; b++) {
                int first = group[b * RowKernel.BLOCK];
                for (int c = b * RowKernel.BLOCK; c < Math.min(g.length, (b + 1) * RowKernel.BLOCK); c++) {
                    if (group[c] != first) {
                        first = -1;
                        break;
                    }
                }
                blockGroup[b] = first;
            }
        }

        /** α, the weight of the cross-group KL. */
        public double crossGroupWeight() {
            return loss.crossGroupWeight();
        }

        /** β, the weight of the within-group KLs. */
        public double withinGroupWeight() {
            return loss.withinGroupWeight();
        }

        /** Whether the teacher's group masses are rebalanced with batch statistics. */
        public boolean rebalance() {
            return loss.rebalance();
        }

        /** Whether each group's within-group KL counts the same. */
        public boolean reweight() {
            return loss.reweight();
        }

        /** Number of classes the groups are for. */
        public int classes() {
            return group.length;
        }

        /** The error of the catalogue class when the logits have another number of classes. */
        void checkClasses(int classes) {
            loss.checkClasses(classes);
        }

        int group(int c) {
            return group[c];
        }

        /** Number of classes in group {@code g}. */
        int size(int g) {
            return sizes[g];
        }

        /** Number of non-empty groups (G of the paper). */
        int nonEmpty() {
            return (sizes[0] > 0 ? 1 : 0) + (sizes[1] > 0 ? 1 : 0) + (sizes[2] > 0 ? 1 : 0);
        }

        /** The group of each class as a float (0, 1, 2), for lane-wise comparisons. */
        float[] codes() {
            return codes;
        }

        /**
         * Per block of {@value RowKernel#BLOCK} classes from class 0 (the last one may be shorter): the group
         * all its classes are in, or -1 when they are in more than one. Shared, not to be modified.
         */
        int[] blockGroups() {
            return blockGroup;
        }

        @Override
        public String toString() {
            return "LtkdGroups[" + loss.describe() + "]";
        }
    }

    private static final String[] DKD_VALUES = {"tckd", "nckd"};
    private static final String[] LTKD_VALUES = {"crossGroup", "withinGroup", "withinHead", "withinMedium", "withinTail"};
    private static final String[] NO_VALUES = {};

    public FusedTerm {
        Objects.requireNonNull(kind, "kind must not be null");
        Objects.requireNonNull(parameters, "parameters must not be null");
        if (!Double.isFinite(weight) || weight < 0) {
            throw new IllegalArgumentException("weight must be finite and >= 0, got " + weight);
        }
        Checks.positive("temperature", temperature);
        Class<? extends Parameters> expected = switch (kind) {
            case CROSS_ENTROPY -> LabelSmoothing.class;
            case GENERALIZED_JSD -> TeacherMix.class;
            case DKD -> DkdWeights.class;
            case LTKD -> LtkdGroups.class;
            case SPARSE_TOP_K_KL, SPARSE_TOP_K_TVD -> SparseTeacher.class;
            default -> NoParameters.class;
        };
        if (!expected.isInstance(parameters)) {
            throw new IllegalArgumentException(kind + " takes " + expected.getSimpleName() + " parameters, got "
                    + parameters);
        }
        if (standardize && kind != Kind.SOFT_TARGET_KL && kind != Kind.DKD) {
            throw new IllegalArgumentException("standardize is supported for SOFT_TARGET_KL and DKD, got " + kind);
        }
    }

    /** A term on the raw logits. */
    public FusedTerm(Kind kind, double weight, double temperature, Parameters parameters) {
        this(kind, weight, temperature, parameters, false);
    }

    /** This term on the z-scores of both rows ({@link io.kd4j.losses.logit.StandardizedLogits}). */
    public FusedTerm standardized() {
        return new FusedTerm(kind, weight, temperature, parameters, true);
    }

    /** Cross-entropy with hard labels. */
    public static FusedTerm crossEntropy(double weight, double labelSmoothing) {
        return new FusedTerm(Kind.CROSS_ENTROPY, weight, 1.0, new LabelSmoothing(labelSmoothing));
    }

    /** Hinton's soft-target KL at temperature {@code T}. */
    public static FusedTerm softTargetKl(double weight, double temperature) {
        return new FusedTerm(Kind.SOFT_TARGET_KL, weight, temperature, new NoParameters());
    }

    /** Reverse KL at temperature {@code T}. */
    public static FusedTerm reverseKl(double weight, double temperature) {
        return new FusedTerm(Kind.REVERSE_KL, weight, temperature, new NoParameters());
    }

    /** Total variation at temperature {@code T}. */
    public static FusedTerm totalVariation(double weight, double temperature) {
        return new FusedTerm(Kind.TOTAL_VARIATION, weight, temperature, new NoParameters());
    }

    /** Generalized JSD with teacher weight β at temperature {@code T}. */
    public static FusedTerm generalizedJsd(double weight, double temperature, double teacherMixWeight) {
        return new FusedTerm(Kind.GENERALIZED_JSD, weight, temperature, new TeacherMix(teacherMixWeight));
    }

    /** DKD at temperature {@code T} with its warm-up factor already read at the batch's epoch. */
    public static FusedTerm dkd(double weight, double temperature, double targetWeight, double nonTargetWeight,
                                double warmupFactor) {
        return new FusedTerm(Kind.DKD, weight, temperature, new DkdWeights(targetWeight, nonTargetWeight, warmupFactor));
    }

    /** LTKD at temperature {@code T} with the groups and weights of a catalogue {@link Ltkd}. */
    public static FusedTerm ltkd(double weight, double temperature, Ltkd loss) {
        return new FusedTerm(Kind.LTKD, weight, temperature, new LtkdGroups(loss));
    }

    /** Sparse top-k KL at temperature {@code T}. */
    public static FusedTerm sparseTopKKl(double weight, double temperature, double teacherTemperature) {
        return new FusedTerm(Kind.SPARSE_TOP_K_KL, weight, temperature, new SparseTeacher(teacherTemperature));
    }

    /** Sparse top-k TVD at temperature {@code T}. */
    public static FusedTerm sparseTopKTvd(double weight, double temperature, double teacherTemperature) {
        return new FusedTerm(Kind.SPARSE_TOP_K_TVD, weight, temperature, new SparseTeacher(teacherTemperature));
    }

    /** Whether the term reads the teacher (dense logits, or a top-k teacher when {@link #sparseTeacher()}). */
    public boolean needsTeacher() {
        return kind != Kind.CROSS_ENTROPY;
    }

    /** Whether the term reads a top-k teacher ({@code [k indices | k log-probabilities]} per row). */
    public boolean sparseTeacher() {
        return kind == Kind.SPARSE_TOP_K_KL || kind == Kind.SPARSE_TOP_K_TVD;
    }

    /** Whether the term reads hard labels. */
    public boolean needsLabels() {
        return kind == Kind.CROSS_ENTROPY || kind == Kind.DKD;
    }

    /** Whether the term couples the rows of a batch (LTKD's rebalancing): it then has no per-row values. */
    public boolean batchCoupled() {
        return parameters instanceof LtkdGroups g && g.rebalance();
    }

    /** The names of the parts of the term's value that are reported with it (DKD: tckd, nckd; LTKD: five). */
    public String[] partNames() {
        return switch (kind) {
            case DKD -> DKD_VALUES.clone();
            case LTKD -> LTKD_VALUES.clone();
            default -> NO_VALUES;
        };
    }

    int parts() {
        return kind == Kind.DKD ? 2 : kind == Kind.LTKD ? 5 : 0;
    }

    double labelSmoothing() {
        return parameters instanceof LabelSmoothing l ? l.labelSmoothing() : 0.0;
    }

    double teacherMixWeight() {
        return parameters instanceof TeacherMix m ? m.teacherMixWeight() : 0.0;
    }

    DkdWeights dkdWeights() {
        return (DkdWeights) parameters;
    }

    LtkdGroups ltkdGroups() {
        return (LtkdGroups) parameters;
    }

    double teacherTemperature() {
        return parameters instanceof SparseTeacher s ? s.teacherTemperature() : 0.0;
    }
}
