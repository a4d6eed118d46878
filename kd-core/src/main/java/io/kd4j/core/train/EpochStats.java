package io.kd4j.core.train;

import java.util.Map;

/**
 * What one epoch of distillation measured.
 *
 * @param epoch 1-based epoch
 * @param iterations optimisation steps in the epoch
 * @param examples examples seen
 * @param meanTerms mean over the epoch's iterations of each named term (unweighted) and of {@code total}
 * @param teacherSeconds time spent producing teacher outputs (online inference or cache reads)
 * @param studentSeconds time spent in the student's fit, teacher time excluded
 */
public record EpochStats(int epoch, long iterations, long examples, Map<String, Double> meanTerms,
                         double teacherSeconds, double studentSeconds) {
    public EpochStats {
        meanTerms = Map.copyOf(meanTerms);
    }
}
