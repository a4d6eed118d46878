package io.kd4j.core.metrics;

import java.util.Objects;
import java.util.Optional;

/**
 * What the Distiller measured on its evaluation data after training: the student's evaluation and,
 * when the teacher could run on that data, the teacher–student agreement.
 *
 * @param student the distilled student's accuracy, confusion matrix and calibration
 * @param agreement agreement with the teacher; empty when the teacher is a cache (a cache holds the
 *                  training examples only)
 */
public record StudentEvaluation(Evaluation student, Optional<Agreement> agreement) {
    public StudentEvaluation {
        Objects.requireNonNull(student, "student");
        Objects.requireNonNull(agreement, "agreement");
    }
}
