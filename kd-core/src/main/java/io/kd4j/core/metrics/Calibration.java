package io.kd4j.core.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Expected calibration error and reliability-diagram data of top-1 predictions, with equal-width
 * confidence bins as in C. Guo et al., "On Calibration of Modern Neural Networks", ICML 2017: bin
 * {@code m} of {@code M} holds the examples whose top-1 probability lies in {@code ((m-1)/M, m/M]}
 * (the first bin also takes confidence 0), and
 * <pre>
 *   ECE = sum_m (|B_m| / n) · | acc(B_m) - conf(B_m) |
 * </pre>
 * with {@code acc} the fraction of correct top-1 predictions and {@code conf} the mean top-1
 * probability in the bin. The default is {@code M = 15}, Guo et al.'s choice. Immutable.
 */
public final class Calibration {
    /** Guo et al.'s number of bins. */
    public static final int DEFAULT_BINS = 15;

    /**
     * One reliability-diagram bin.
     *
     * @param lower exclusive lower edge (inclusive for the first bin)
     * @param upper inclusive upper edge
     * @param count examples in the bin
     * @param meanConfidence mean top-1 probability of the bin's examples (0 for an empty bin)
     * @param accuracy fraction of the bin's examples predicted correctly (0 for an empty bin)
     */
    public record Bin(double lower, double upper, long count, double meanConfidence, double accuracy) {
    }

    private final List<Bin> bins;
    private final double ece;

    private Calibration(List<Bin> bins, double ece) {
        this.bins = List.copyOf(bins);
        this.ece = ece;
    }

    /** With {@link #DEFAULT_BINS} equal-width bins. */
    public static Calibration of(Predictions p) {
        return of(p, DEFAULT_BINS);
    }

    /** With {@code binCount} equal-width bins over [0, 1], {@code binCount >= 1}. */
    public static Calibration of(Predictions p, int binCount) {
        Objects.requireNonNull(p, "predictions must not be null");
        if (binCount < 1) {
            throw new IllegalArgumentException("binCount must be >= 1, got " + binCount);
        }
        long[] count = new long[binCount];
        double[] conf = new double[binCount];
        long[] correct = new long[binCount];
        for (int i = 0; i < p.size(); i++) {
            double c = p.confidence(i);
            int m = (int) Math.ceil(c * binCount) - 1;
            m = Math.max(0, Math.min(binCount - 1, m));
            count[m]++;
            conf[m] += c;
            if (p.predicted(i) == p.label(i)) {
                correct[m]++;
            }
        }
        List<Bin> bins = new ArrayList<>();
        double ece = 0;
        for (int m = 0; m < binCount; m++) {
            double meanConf = count[m] == 0 ? 0 : conf[m] / count[m];
            double acc = count[m] == 0 ? 0 : correct[m] / (double) count[m];
            bins.add(new Bin(m / (double) binCount, (m + 1) / (double) binCount, count[m], meanConf, acc));
            ece += count[m] / (double) p.size() * Math.abs(acc - meanConf);
        }
        return new Calibration(bins, ece);
    }

    /** The expected calibration error, in [0, 1]. */
    public double ece() {
        return ece;
    }

    /** The bins, lowest confidence first (empty bins included, with count 0). */
    public List<Bin> bins() {
        return bins;
    }
}
