package io.kd4j.examples.experiment;

import io.kd4j.core.metrics.Calibration;
import io.kd4j.core.train.EpochStats;
import io.kd4j.losses.logit.Ltkd.Group;
import java.util.List;
import java.util.Map;

/**
 * What one trained model measured (last epoch).
 *
 * @param test test accuracy
 * @param validation validation accuracy (held out from the training data)
 * @param ece expected calibration error on the test set (15 equal-width bins)
 * @param agreement top-1 agreement with the teacher on the test set (1 for the teacher)
 * @param kl mean KL(teacher || model) on the test set, nats (0 for the teacher)
 * @param groups test accuracy per class group (empty for a balanced training set)
 * @param reliability the test set's reliability-diagram bins
 * @param epochs per-epoch mean loss terms (empty for the teacher)
 */
public record Measurement(double test, double validation, double ece, double agreement, double kl,
                          Map<Group, Double> groups, List<Calibration.Bin> reliability, List<EpochStats> epochs) {
    public Measurement {
        groups = Map.copyOf(groups);
        reliability = List.copyOf(reliability);
        epochs = List.copyOf(epochs);
    }
}
