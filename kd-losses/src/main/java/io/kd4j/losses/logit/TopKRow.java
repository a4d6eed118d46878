package io.kd4j.losses.logit;

import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;

/**
 * One row of a sparse (top-k) teacher against the dense student, as k + 1 bins: the teacher's top-k
 * classes and "the rest" (package-private helper of {@link SparseTopKKl} and {@link SparseTopKTvd}).
 *
 * <p>{@link #load} writes into {@code scratch}: {@code log q = log_softmax(s / T)} at {@code [0, c)},
 * a marker (1 for a top-k class, else 0) at {@code [c, 2c)}, and the teacher's top-k log-probabilities
 * (re-tempered if asked) at {@code [3c, 3c + k)}.
 *
 * @param logRest {@code log r}, the log of the teacher's mass outside the top-k ({@code -inf} when none)
 * @param logStudentRest {@code log q_rest}, the log of the student's mass outside the top-k, computed
 *     as a log-sum-exp over those classes (finite whenever there is at least one such class)
 * @param hasRest whether any class lies outside the top-k ({@code k < classes}); when {@code k == classes}
 *     the tail bin is dropped, its teacher mass being rounding noise
 */
record TopKRow(double logRest, double logStudentRest, boolean hasRest) {

    /**
     * @param teacherTemperature 0: the stored log-probabilities are already at {@code tau}; otherwise the
     *     temperature they were computed at, and they are re-tempered to {@code tau} over the k + 1 bins
     *     ({@code p_i ∝ p_i^(T_g / T)}, {@code r ∝ r^(T_g / T)}), as DistillKit's
     *     {@code get_target_logprobs} with {@code SYMMETRIC_UNIFORM}
     */
    static TopKRow load(LogitRows rows, int row, double tau, double teacherTemperature, double[] scratch) {
        int c = rows.classes();
        int k = rows.topK();
        int off = row * c;
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, 0);
        java.util.Arrays.fill(scratch, c, 2 * c, 0.0);
        int[] idx = rows.topKIndices();
        double[] lp = rows.topKLogProbs();
        int t = 3 * c;
        for (int i = 0; i < k; i++) {
            scratch[c + idx[row * k + i]] = 1.0;
            scratch[t + i] = lp[row * k + i];
        }
        boolean hasRest = k < c;
        double logStudentRest = Double.NEGATIVE_INFINITY;
        if (hasRest) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                if (scratch[c + j] == 0) {
                    max = Math.max(max, scratch[j]);
                }
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                if (scratch[c + j] == 0) {
                    sum += Math.exp(scratch[j] - max);
                }
            }
            logStudentRest = max + Math.log(sum);
        }
        double logTop = logSumExp(scratch, t, k);
        double logRest = hasRest ? DivergenceMath.log1mExp(logTop) : Double.NEGATIVE_INFINITY;
        if (teacherTemperature > 0 && teacherTemperature != tau) {
            double alpha = teacherTemperature / tau;
            for (int i = 0; i < k; i++) {
                scratch[t + i] *= alpha;
            }
            double logZ = LogitMath.logAddExp(logSumExp(scratch, t, k), alpha * logRest);
            for (int i = 0; i < k; i++) {
                scratch[t + i] -= logZ;
            }
            logRest = alpha * logRest - logZ;
        }
        return new TopKRow(logRest, logStudentRest, hasRest);
    }

    /** Log-sum-exp that returns {@code -inf} when every entry is {@code -inf} (a zero teacher mass). */
    private static double logSumExp(double[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[off + i] - max);
        }
        return max + Math.log(sum);
    }
}
