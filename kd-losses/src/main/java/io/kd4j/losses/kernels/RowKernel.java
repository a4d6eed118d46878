package io.kd4j.losses.kernels;

/**
 * One thread's kernel: evaluates the fused objective on one row at a time in its own row buffers
 * (a few rows' worth of memory, reused), so the data is read from memory once per evaluation.
 * Implementations: {@link ScalarRowKernel} (plain Java, double precision) and {@code VectorRowKernel}
 * (JDK Vector API, float32, per-row sums flushed to double every {@value #BLOCK} values).
 */
abstract class RowKernel {
    /** Values summed in float lanes before the partial sum is added to a double accumulator. */
    static final int BLOCK = 1024;
    /** Probability differences at most this large are ties for the TVD subgradient (as the reference). */
    static final double TIE = 1e-12;

    /**
     * Evaluates row {@code row}.
     *
     * @param teacher the teacher rows, {@code null} when no term reads them
     * @param label the hard label, or -1 when no term reads one
     * @param grad where to write {@code gradScale · d(Σ w·l)/ds} for the row, or {@code null} (value only)
     * @param termValues receives each term's unweighted row value
     * @return the weighted row value {@code Σ w·l}
     */
    abstract double row(DenseRows student, DenseRows teacher, int label, int row, FusedTerm[] terms,
                        DenseRows grad, double gradScale, double[] termValues);

    /** {@code log(exp(a) + exp(b))}, stable. */
    static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        double m = Math.max(a, b);
        return m + Math.log1p(Math.exp(-Math.abs(a - b)));
    }

    /** {@code a · (b - c)} with {@code 0 · anything = 0}. */
    static double weighted(double a, double b, double c) {
        return a == 0 ? 0.0 : a * (b - c);
    }

    static double tieSign(double d) {
        return d > TIE ? 1.0 : d < -TIE ? -1.0 : 0.0;
    }
}
