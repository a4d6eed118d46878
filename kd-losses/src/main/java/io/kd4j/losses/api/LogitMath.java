package io.kd4j.losses.api;

/**
 * Numerically stable softmax helpers on row segments of double arrays (max-shifted log-sum-exp).
 * Every loss in the catalogue goes through these, so that ±1e4 logits stay finite.
 */
public final class LogitMath {
    private LogitMath() {
    }

    /** {@code log sum_j exp(x[off + j] / temperature)} for {@code j < n}. */
    public static double logSumExp(double[] x, int off, int n, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, x[off + j] / temperature);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += Math.exp(x[off + j] / temperature - max);
        }
        return max + Math.log(sum);
    }

    /**
     * Writes {@code log softmax(x / temperature)} of the segment into {@code out[outOff..outOff+n)}.
     */
    public static void logSoftmax(double[] x, int off, int n, double temperature, double[] out, int outOff) {
        double lse = logSumExp(x, off, n, temperature);
        for (int j = 0; j < n; j++) {
            out[outOff + j] = x[off + j] / temperature - lse;
        }
    }

    /** Writes {@code softmax(x / temperature)} of the segment into {@code out[outOff..outOff+n)}. */
    public static void softmax(double[] x, int off, int n, double temperature, double[] out, int outOff) {
        double lse = logSumExp(x, off, n, temperature);
        for (int j = 0; j < n; j++) {
            out[outOff + j] = Math.exp(x[off + j] / temperature - lse);
        }
    }

    /** {@code x log x} with the limit 0 at 0. */
    public static double xlogx(double x) {
        return x > 0 ? x * Math.log(x) : 0.0;
    }

    /** Stable {@code log(exp(a) + exp(b))}. */
    public static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        double m = Math.max(a, b);
        return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
    }
}
