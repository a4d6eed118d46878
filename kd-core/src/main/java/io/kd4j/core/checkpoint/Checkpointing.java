package io.kd4j.core.checkpoint;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how often a distillation run checkpoints its training state.
 *
 * <p>A checkpoint is written every {@code everyIterations} optimisation steps (between two steps,
 * never during one) and at the end of every epoch. With a checkpoint already in {@code directory}
 * for the same run, {@code Distiller.distill} resumes from it; a finished run's checkpoint makes
 * {@code distill} a no-op that returns the finished student.
 *
 * @param directory the run's checkpoint directory (one run per directory); created when missing
 * @param everyIterations steps between mid-epoch checkpoints, &gt;= 1 (the most work a crash can lose)
 */
public record Checkpointing(Path directory, int everyIterations) {
    public Checkpointing {
        Objects.requireNonNull(directory, "checkpoint directory must not be null");
        if (everyIterations < 1) {
            throw new IllegalArgumentException("checkpoint everyIterations must be >= 1, got " + everyIterations);
        }
    }
}
