package io.kd4j.losses.api;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The inputs of one loss evaluation. Only {@code studentLogits} is always required; each loss
 * declares what else it reads in {@link DistillationLoss#requiredInputs()}.
 *
 * <p>{@code epoch} is the training progress in epochs, 1-based as in mdistiller's trainer
 * (1.0 during the first epoch, 2.5 half-way through the second). Temperature schedules and warm-ups
 * read it; it defaults to 1.
 */
public final class LossInput {
    private final INDArray studentLogits;
    private final INDArray teacherLogits;
    private final INDArray labels;
    private final INDArray mask;
    private final TopKTeacher teacherTopK;
    private final double epoch;

    private LossInput(Builder b) {
        this.studentLogits = Objects.requireNonNull(b.studentLogits, "studentLogits must not be null");
        this.teacherLogits = b.teacherLogits;
        this.labels = b.labels;
        this.mask = b.mask;
        this.teacherTopK = b.teacherTopK;
        this.epoch = b.epoch;
        if (!(epoch >= 0) || Double.isInfinite(epoch)) {
            throw new IllegalArgumentException("epoch must be finite and >= 0, got " + epoch);
        }
    }

    /** Starts an input with the student's logits, {@code [batch, classes]} or {@code [batch, classes, time]}. */
    public static Builder of(INDArray studentLogits) {
        return new Builder(studentLogits);
    }

    public INDArray studentLogits() {
        return studentLogits;
    }

    /** Dense teacher logits, or {@code null}. */
    public INDArray teacherLogits() {
        return teacherLogits;
    }

    /** Class indices {@code [batch]} or {@code [batch, time]}, or {@code null}. */
    public INDArray labels() {
        return labels;
    }

    /** Valid-position mask {@code [batch]} or {@code [batch, time]}, or {@code null} (all valid). */
    public INDArray mask() {
        return mask;
    }

    /** The sparse teacher, or {@code null}. */
    public TopKTeacher teacherTopK() {
        return teacherTopK;
    }

    /** Training progress in epochs, 1-based. */
    public double epoch() {
        return epoch;
    }

    /** Builder for {@link LossInput}. */
    public static final class Builder {
        private final INDArray studentLogits;
        private INDArray teacherLogits;
        private INDArray labels;
        private INDArray mask;
        private TopKTeacher teacherTopK;
        private double epoch = 1.0;

        private Builder(INDArray studentLogits) {
            this.studentLogits = studentLogits;
        }

        public Builder teacherLogits(INDArray teacherLogits) {
            this.teacherLogits = teacherLogits;
            return this;
        }

        public Builder labels(INDArray labels) {
            this.labels = labels;
            return this;
        }

        public Builder mask(INDArray mask) {
            this.mask = mask;
            return this;
        }

        public Builder teacherTopK(TopKTeacher teacherTopK) {
            this.teacherTopK = teacherTopK;
            return this;
        }

        public Builder epoch(double epoch) {
            this.epoch = epoch;
            return this;
        }

        public LossInput build() {
            return new LossInput(this);
        }
    }
}
