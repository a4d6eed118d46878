package io.kd4j.losses.kernels;

/**
 * The top-k terms in the plain-Java kernel (double precision), on the row buffers of a
 * {@link ScalarRowKernel}: the student row in {@code s}, the teacher's top-k row in its
 * {@link SparseTeacherRow}. As {@code TopKRow} of the catalogue: {@code log q = log_softmax(s / T)},
 * {@code log q_rest} a log-sum-exp over the classes outside the top-k (exact even when their mass is
 * far below the top-k's), then the k + 1 bins.
 */
final class ScalarSparseTerms {
    private ScalarSparseTerms() {
    }

    /**
     * Fills {@code q} with {@code log q = log_softmax(s / T)} and returns {@code log q_rest}
     * ({@code -inf} when every class is in the top-k).
     */
    private static double studentLogs(ScalarRowKernel k, int c, double ms, double tau) {
        double[] s = k.s;
        double[] q = k.q;
        double inv = 1 / tau;
        double z = 0;
        for (int j = 0; j < c; j++) {
            z += Math.exp((s[j] - ms) * inv);
        }
        double lse = ms * inv + Math.log(z);
        boolean[] top = k.sparse.topMarkers();
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            q[j] = s[j] * inv - lse;
            if (!top[j]) {
                max = Math.max(max, q[j]);
            }
        }
        if (!k.sparse.hasRest) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (int j = 0; j < c; j++) {
            if (!top[j]) {
                sum += Math.exp(q[j] - max);
            }
        }
        return max + Math.log(sum);
    }

    /** {@link io.kd4j.losses.logit.SparseTopKKl}: {@code T² [Σ_top p (lp - log q) + r (log r - log q_rest)]}. */
    static double kl(ScalarRowKernel k, int c, double ms, FusedTerm term, boolean wantGrad, double gw) {
        double tau = term.temperature();
        SparseTeacherRow top = k.sparse;
        top.temper(tau, term.teacherTemperature());
        double logStudentRest = studentLogs(k, c, ms, tau);
        double[] logQ = k.q;
        double[] u = k.u;
        double r = Math.exp(top.logRest);
        boolean tail = top.hasRest && r > 0;
        boolean[] marks = top.topMarkers();
        for (int j = 0; j < c; j++) {
            u[j] = tail && !marks[j] ? -r * Math.exp(logQ[j] - logStudentRest) : 0.0;
        }
        double value = 0;
        for (int i = 0; i < top.k; i++) {
            int j = top.index[i];
            double lp = top.logProb[i];
            double p = Math.exp(lp);
            value += RowKernel.weighted(p, lp, logQ[j]);
            u[j] = -p;
        }
        if (tail) {
            value += r * (top.logRest - logStudentRest);
        }
        if (wantGrad) {
            softmaxChain(k, c, gw * tau);
        }
        return tau * tau * value;
    }

    /** {@link io.kd4j.losses.logit.SparseTopKTvd}: {@code 0.5 [Σ_top |p - q| + |r - q_rest|]}, no {@code T²}. */
    static double tvd(ScalarRowKernel k, int c, double ms, FusedTerm term, boolean wantGrad, double gw) {
        double tau = term.temperature();
        SparseTeacherRow top = k.sparse;
        top.temper(tau, term.teacherTemperature());
        double logStudentRest = studentLogs(k, c, ms, tau);
        double[] logQ = k.q;
        double[] u = k.u;
        double sum = 0;
        double rest = 0;
        if (top.hasRest) {
            double d = Math.exp(logStudentRest) - Math.exp(top.logRest);
            sum += Math.abs(d);
            rest = 0.5 * RowKernel.tieSign(d);
        }
        for (int j = 0; j < c; j++) {
            u[j] = rest == 0 ? 0.0 : rest * Math.exp(logQ[j]);
        }
        for (int i = 0; i < top.k; i++) {
            int j = top.index[i];
            double q = Math.exp(logQ[j]);
            double d = q - Math.exp(top.logProb[i]);
            sum += Math.abs(d);
            u[j] = 0.5 * q * RowKernel.tieSign(d);
        }
        if (wantGrad) {
            softmaxChain(k, c, gw / tau);
        }
        return 0.5 * sum;
    }

    /** Adds {@code scale (u_j - q_j Σ u)} to the gradient ({@code q} holds log q). */
    private static void softmaxChain(ScalarRowKernel k, int c, double scale) {
        double su = 0;
        for (int j = 0; j < c; j++) {
            su += k.u[j];
        }
        for (int j = 0; j < c; j++) {
            k.g[j] += scale * (k.u[j] - Math.exp(k.q[j]) * su);
        }
    }
}
