package io.kd4j.core.train;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The record of a distillation run: what was trained from what, with which objective and seed on
 * which data, and what each epoch measured.
 *
 * @param teacher the teacher's description (with its fingerprint)
 * @param student the student's description
 * @param objective the objective's formula
 * @param hyperparameters the run's settings (epochs, seed, ...)
 * @param seed the random seed
 * @param data a description of the training data
 * @param epochs per-epoch statistics
 */
public record DistillationReport(String teacher, String student, String objective, Map<String, Object> hyperparameters,
                                 long seed, String data, List<EpochStats> epochs) {
    public DistillationReport {
        hyperparameters = Map.copyOf(hyperparameters);
        epochs = List.copyOf(epochs);
    }

    /** Total seconds spent on teacher outputs. */
    public double teacherSeconds() {
        return epochs.stream().mapToDouble(EpochStats::teacherSeconds).sum();
    }

    /** Total seconds spent in the student's training, teacher time excluded. */
    public double studentSeconds() {
        return epochs.stream().mapToDouble(EpochStats::studentSeconds).sum();
    }

    /** The last epoch's mean terms. */
    public Map<String, Double> finalTerms() {
        return epochs.isEmpty() ? Map.of() : epochs.get(epochs.size() - 1).meanTerms();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("teacher:   ").append(teacher).append('\n');
        b.append("student:   ").append(student).append('\n');
        b.append("objective: ").append(objective).append('\n');
        b.append("data:      ").append(data).append('\n');
        b.append("seed:      ").append(seed).append("  settings: ").append(hyperparameters).append('\n');
        for (EpochStats e : epochs) {
            b.append(String.format(Locale.ROOT, "epoch %d: %d iterations, teacher %.1fs, student %.1fs, terms %s%n",
                    e.epoch(), e.iterations(), e.teacherSeconds(), e.studentSeconds(), e.meanTerms()));
        }
        return b.toString();
    }
}
