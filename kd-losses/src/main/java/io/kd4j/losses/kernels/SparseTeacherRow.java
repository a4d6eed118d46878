package io.kd4j.losses.kernels;

import java.util.Arrays;

/**
 * One row of a top-k teacher, {@code [k class indices | k log-probabilities]}, read and checked once
 * per row and then tempered per term, as {@code TopKRow} of the catalogue does: the teacher over k + 1
 * bins, its top-k classes and the rest, whose log-mass is {@code log(1 - Σ exp(lp))}. With a
 * {@code teacherTemperature} {@code T_g > 0} other than the loss's {@code T}, the k + 1 bins are
 * re-tempered, {@code p_i ∝ p_i^(T_g/T)}, {@code r ∝ r^(T_g/T)} (DistillKit's SYMMETRIC_UNIFORM).
 * Double precision; k values per row, so the cost is small next to the dense student row.
 */
final class SparseTeacherRow {
    int k;
    int[] index = new int[0];
    /** The stored log-probabilities. */
    private double[] stored = new double[0];
    /** The log-probabilities at the term's temperature (after {@link #temper}). */
    double[] logProb = new double[0];
    /** Whether class j is one of the row's top-k (reset by the next {@link #load}). */
    private boolean[] top = new boolean[0];
    /** Log of the teacher's mass outside the top-k at the term's temperature ({@code -inf}: none). */
    double logRest;
    /** Whether any class lies outside the top-k ({@code k < classes}). */
    boolean hasRest;

    /**
     * Reads and checks row {@code row}: indices must be distinct integers in {@code [0, classes)}, the
     * log-probabilities {@code <= 0} (1e-6 of rounding allowed) and not NaN, and their probabilities sum
     * to at most 1 (1e-4 allowed), as the catalogue's input checks require.
     */
    void load(DenseRows teacher, int row, int classes) {
        int kk = teacher.width() / 2;
        if (top.length < classes) {
            top = new boolean[classes];
        } else {
            for (int i = 0; i < k; i++) {
                top[index[i]] = false;
            }
        }
        if (index.length < kk) {
            index = new int[kk];
            stored = new double[kk];
            logProb = new double[kk];
        }
        k = kk;
        double mass = 0;
        for (int i = 0; i < kk; i++) {
            double v = teacher.value(row, i);
            if (v != Math.rint(v) || v < 0 || v >= classes) {
                k = i;
                throw new IllegalArgumentException("teacher top-k indices must be integers in [0, " + classes + "), got "
                        + v + " at row " + row);
            }
            int j = (int) v;
            if (top[j]) {
                k = i;
                throw new IllegalArgumentException("teacher top-k indices must be distinct within a row, got " + j
                        + " twice at row " + row);
            }
            top[j] = true;
            index[i] = j;
            double lp = teacher.value(row, kk + i);
            if (Double.isNaN(lp) || lp > 1e-6) {
                k = i + 1;
                throw new IllegalArgumentException("teacher top-k log-probabilities must be <= 0 and not NaN, got " + lp
                        + " at row " + row);
            }
            stored[i] = lp;
            mass += Math.exp(lp);
        }
        if (mass > 1 + 1e-4) {
            throw new IllegalArgumentException("teacher top-k probabilities must sum to <= 1, got " + mass + " at row "
                    + row);
        }
        hasRest = kk < classes;
    }

    /** Whether class {@code j} is in the row's top-k. */
    boolean isTop(int j) {
        return top[j];
    }

    /** The top-k marker of each class ({@code [0, classes)} valid until the next {@link #load}). */
    boolean[] topMarkers() {
        return top;
    }

    /** Sets {@link #logProb} and {@link #logRest} for a term at temperature {@code tau}. */
    void temper(double tau, double teacherTemperature) {
        System.arraycopy(stored, 0, logProb, 0, k);
        double logTop = logSumExp(logProb, k);
        logRest = hasRest ? RowKernel.log1mExp(logTop) : Double.NEGATIVE_INFINITY;
        if (teacherTemperature > 0 && teacherTemperature != tau) {
            double alpha = teacherTemperature / tau;
            for (int i = 0; i < k; i++) {
                logProb[i] *= alpha;
            }
            double logZ = RowKernel.logAddExp(logSumExp(logProb, k), alpha * logRest);
            for (int i = 0; i < k; i++) {
                logProb[i] -= logZ;
            }
            logRest = alpha * logRest - logZ;
        }
    }

    /** Log-sum-exp that returns {@code -inf} when every entry is {@code -inf} (a zero teacher mass). */
    static double logSumExp(double[] x, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[i] - max);
        }
        return max + Math.log(sum);
    }

    @Override
    public String toString() {
        return "SparseTeacherRow" + Arrays.toString(Arrays.copyOf(index, k));
    }
}
