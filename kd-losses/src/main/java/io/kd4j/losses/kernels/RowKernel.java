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
    /** The largest integer temperature whose powers a cross-entropy takes ({@link #cePower}). */
    static final int MAX_POWER = 8;

    /**
     * Evaluates row {@code row} of a batch.
     *
     * @param label the hard label, or -1 when no term reads one
     * @param values receives, at each term's {@link Batch#slot slot}, the term's unweighted row value
     *     followed by its parts ({@link FusedTerm#partNames()})
     * @return the weighted row value {@code Σ w·l}
     */
    abstract double row(Batch batch, int row, int label, double[] values);

    /**
     * Writes out what {@link #row} left for later (a gradient row the vector kernel writes while it reads
     * the next row); called after a thread's last row of a chunk, also when a row failed.
     */
    void finish() {
    }

    /**
     * LTKD's first pass: the log of the teacher's mass in each class group, {@code log P_g} of one row at
     * the term's temperature ({@code -inf} for an empty group), into {@code out[0..3)}.
     */
    abstract void groupMasses(Batch batch, int row, FusedTerm term, double[] out);

    /**
     * {@link #groupMasses} of two rows of a batch: {@code row}'s into {@code out[0..3)} and {@code next}'s into
     * {@code out[3..6)} (an error names {@code row}'s bad value before {@code next}'s). Here one row after
     * the other; the vector kernel reads both in one loop.
     */
    void groupMasses(Batch batch, int row, int next, FusedTerm term, double[] out) {
        double[] first = new double[3];
        groupMasses(batch, row, term, first);
        groupMasses(batch, next, term, out);
        System.arraycopy(out, 0, out, 3, 3);
        System.arraycopy(first, 0, out, 0, 3);
    }

    /**
     * The integer temperature {@code n} (1 to {@value #MAX_POWER}) of soft-target KL term {@code kl} when
     * cross-entropy term {@code ce} evaluated right after it can take its exponentials as {@code q^n} from
     * the KL term's {@code q = exp((s - f) / n)} (neither term standardized); else 0.
     */
    static int cePower(FusedTerm kl, FusedTerm ce) {
        return kl.kind() == FusedTerm.Kind.SOFT_TARGET_KL ? powerOf(kl, ce) : 0;
    }

    /**
     * {@link #cePower} for a term {@code first} of any kind: its temperature if that is an integer from 1
     * to {@value #MAX_POWER}, {@code ce} is a cross-entropy and neither is standardized; else 0.
     */
    static int powerOf(FusedTerm first, FusedTerm ce) {
        double tau = first.temperature();
        boolean fits = !first.standardize() && ce.kind() == FusedTerm.Kind.CROSS_ENTROPY && !ce.standardize()
                && tau == Math.rint(tau) && tau >= 1 && tau <= MAX_POWER;
        return fits ? (int) tau : 0;
    }

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

    /** {@code log(1 - exp(x))} for {@code x <= 0}, stable at both ends; {@code -inf} for {@code x >= 0}. */
    static double log1mExp(double x) {
        if (x >= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        return x > -0.6931471805599453 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
    }

    /** {@code a · (b - c)} with {@code 0 · anything = 0}. */
    static double weighted(double a, double b, double c) {
        return a == 0 ? 0.0 : a * (b - c);
    }

    static double tieSign(double d) {
        return d > TIE ? 1.0 : d < -TIE ? -1.0 : 0.0;
    }

    /** The log-sum-exp of the three group log-masses that are not {@code -inf}, or {@code -inf}. */
    static double logSumExp3(double[] x) {
        return logAddExp(logAddExp(x[0], x[1]), x[2]);
    }
}
