package io.kd4j.examples.tasks;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Test metrics of the tasks beyond single-label classification, on plain double arrays (rows are
 * examples): multi-label mean average precision and macro F1, regression RMSE, Gaussian NLL and
 * interval coverage, and ranking MRR and precision at 1. Independent of kd4j's losses.
 */
public final class TaskMetrics {
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private TaskMetrics() {
    }

    /**
     * Average precision of one label: the mean, over the relevant examples, of the precision among the
     * examples ranked at or above it by descending score (ties broken pessimistically: a relevant
     * example is ranked after the irrelevant ones of the same score). {@code NaN} without relevant examples.
     */
    public static double averagePrecision(double[] scores, boolean[] relevant) {
        Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparing(i -> relevant[i] ? 1 : 0));
        double sum = 0;
        int hits = 0;
        for (int rank = 0; rank < order.length; rank++) {
            if (relevant[order[rank]]) {
                hits++;
                sum += hits / (double) (rank + 1);
            }
        }
        return hits == 0 ? Double.NaN : sum / hits;
    }

    /** Mean over labels (columns) of {@link #averagePrecision}, skipping labels without a relevant example. */
    public static double meanAveragePrecision(double[][] scores, boolean[][] labels) {
        int columns = labels[0].length;
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < columns; c++) {
            int col = c;
            double[] s = Arrays.stream(scores).mapToDouble(r -> r[col]).toArray();
            boolean[] rel = new boolean[labels.length];
            for (int i = 0; i < labels.length; i++) {
                rel[i] = labels[i][col];
            }
            double ap = averagePrecision(s, rel);
            if (!Double.isNaN(ap)) {
                sum += ap;
                counted++;
            }
        }
        return sum / counted;
    }

    /**
     * Macro F1: the mean over labels of {@code 2 TP / (2 TP + FP + FN)}, predicting a label when its
     * probability is &gt; 0.5; a label with no positive and no prediction counts 1.
     */
    public static double macroF1(double[][] probabilities, boolean[][] labels) {
        int columns = labels[0].length;
        double sum = 0;
        for (int c = 0; c < columns; c++) {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < labels.length; i++) {
                boolean predicted = probabilities[i][c] > 0.5;
                tp += predicted && labels[i][c] ? 1 : 0;
                fp += predicted && !labels[i][c] ? 1 : 0;
                fn += !predicted && labels[i][c] ? 1 : 0;
            }
            sum += tp + fp + fn == 0 ? 1.0 : 2.0 * tp / (2.0 * tp + fp + fn);
        }
        return sum / columns;
    }

    /** Root mean squared error. */
    public static double rmse(double[] predicted, double[] target) {
        double ss = 0;
        for (int i = 0; i < target.length; i++) {
            ss += (predicted[i] - target[i]) * (predicted[i] - target[i]);
        }
        return Math.sqrt(ss / target.length);
    }

    /**
     * Mean Gaussian negative log-likelihood of {@code target} under {@code N(mean, exp(logVariance))}:
     * {@code 0.5 log 2π + 0.5 lv + 0.5 (y − μ)² e^{−lv}} (nats).
     */
    public static double gaussianNll(double[] mean, double[] logVariance, double[] target) {
        double sum = 0;
        for (int i = 0; i < target.length; i++) {
            double d = target[i] - mean[i];
            sum += HALF_LOG_2PI + 0.5 * logVariance[i] + 0.5 * d * d * Math.exp(-logVariance[i]);
        }
        return sum / target.length;
    }

    /**
     * The fraction of targets within {@code k} standard deviations of the mean, {@code |y − μ| ≤ k σ}
     * (a calibrated Gaussian gives 0.683 at k = 1 and 0.954 at k = 2).
     */
    public static double coverage(double[] mean, double[] logVariance, double[] target, double k) {
        int inside = 0;
        for (int i = 0; i < target.length; i++) {
            inside += Math.abs(target[i] - mean[i]) <= k * Math.exp(0.5 * logVariance[i]) ? 1 : 0;
        }
        return inside / (double) target.length;
    }

    /**
     * The rank (1-based) of candidate 0, the relevant one, among a list's scores; ties broken
     * pessimistically (every other candidate with a score &gt;= the relevant one's ranks above it).
     */
    public static int rankOfFirst(double[] scores) {
        int rank = 1;
        for (int j = 1; j < scores.length; j++) {
            rank += scores[j] >= scores[0] ? 1 : 0;
        }
        return rank;
    }

    /** Mean reciprocal rank of candidate 0 over the lists (rows). */
    public static double meanReciprocalRank(double[][] scores) {
        return Arrays.stream(scores).mapToDouble(s -> 1.0 / rankOfFirst(s)).average().orElseThrow();
    }

    /** The fraction of lists whose relevant candidate (0) is ranked first. */
    public static double precisionAt1(double[][] scores) {
        return Arrays.stream(scores).mapToDouble(s -> rankOfFirst(s) == 1 ? 1 : 0).average().orElseThrow();
    }
}
