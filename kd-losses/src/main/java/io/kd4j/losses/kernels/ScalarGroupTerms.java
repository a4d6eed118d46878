package io.kd4j.losses.kernels;

/**
 * DKD and LTKD in the plain-Java kernel (double precision), on the row buffers of a
 * {@link ScalarRowKernel}: the student row in {@code s}, the teacher row in {@code t}; the gradient is
 * added to {@code g}. Both split the softmax into parts (target / non-target classes; head, medium,
 * tail groups), and each part is max-shifted by its own maximum, so a part whose mass is far below the
 * row's largest logit keeps its exact value, as the catalogue classes do in log space.
 */
final class ScalarGroupTerms {
    private ScalarGroupTerms() {
    }

    /**
     * {@link io.kd4j.losses.logit.Dkd}: {@code w T² (α TCKD + β NCKD)}; writes the parts
     * {@code w T² α TCKD} and {@code w T² β NCKD} after the value.
     */
    static double dkd(ScalarRowKernel k, int c, int y, FusedTerm term, boolean wantGrad, double gw, double[] values,
                      int at) {
        DkdRow.requireTwoClasses(c);
        double[] s = k.s;
        double[] t = k.t;
        double[] p = k.p;
        double[] q = k.q;
        double tau = term.temperature();
        double inv = 1 / tau;
        double msn = Double.NEGATIVE_INFINITY;
        double mtn = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            if (j != y) {
                msn = Math.max(msn, s[j]);
                mtn = Math.max(mtn, t[j]);
            }
        }
        double zsn = 0;
        double ztn = 0;
        double pd = 0;
        for (int j = 0; j < c; j++) {
            double a = j == y ? 0.0 : Math.exp((t[j] - mtn) * inv);
            double b = j == y ? 0.0 : Math.exp((s[j] - msn) * inv);
            p[j] = a;
            q[j] = b;
            ztn += a;
            zsn += b;
            pd += a == 0 ? 0.0 : a * (t[j] - s[j]);
        }
        DkdRow r = DkdRow.of(term, gw, mtn, ztn, pd, msn, zsn, t[y], s[y]);
        if (wantGrad) {
            double kq = r.kq();
            double kp = r.kp();
            for (int j = 0; j < c; j++) {
                k.g[j] += kq * q[j] + kp * p[j];
            }
            k.g[y] += r.targetDelta();
        }
        return r.value(values, at);
    }

    /** Fills {@code out} with the per-group maxima of {@code x} ({@code -inf} for an empty group). */
    private static void groupMax(double[] x, int c, FusedTerm.LtkdGroups groups, double[] out) {
        out[0] = Double.NEGATIVE_INFINITY;
        out[1] = Double.NEGATIVE_INFINITY;
        out[2] = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            int gi = groups.group(j);
            out[gi] = Math.max(out[gi], x[j]);
        }
    }

    /** LTKD's first pass: {@code log P_g} of the teacher row in {@code t}. */
    static void teacherGroupMasses(ScalarRowKernel k, int c, FusedTerm term, double[] out) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        double inv = 1 / term.temperature();
        double[] m = new double[3];
        groupMax(k.t, c, groups, m);
        double[] z = new double[3];
        for (int j = 0; j < c; j++) {
            int gi = groups.group(j);
            z[gi] += Math.exp((k.t[j] - m[gi]) * inv);
        }
        for (int gi = 0; gi < 3; gi++) {
            out[gi] = groups.size(gi) == 0 ? Double.NEGATIVE_INFINITY : m[gi] * inv + Math.log(z[gi]);
        }
        double lse = RowKernel.logSumExp3(out);
        for (int gi = 0; gi < 3; gi++) {
            out[gi] -= lse;
        }
    }

    /**
     * {@link io.kd4j.losses.logit.Ltkd}: {@code T² [α KL(P^ ‖ Q) + β Σ_g v_g KL(p|g ‖ q|g)]}; writes the
     * parts crossGroup, withinGroup, withinHead, withinMedium, withinTail after the value.
     *
     * @param logW the log rebalancing factors of the batch, or null (no rebalancing)
     */
    static double ltkd(ScalarRowKernel k, int c, FusedTerm term, double[] logW, boolean wantGrad, double gw,
                       double[] values, int at) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        double[] s = k.s;
        double[] t = k.t;
        double tau = term.temperature();
        double inv = 1 / tau;
        double[] mt = new double[3];
        double[] ms = new double[3];
        groupMax(t, c, groups, mt);
        groupMax(s, c, groups, ms);
        double[] za = new double[3];
        double[] zb = new double[3];
        double[] d = new double[3];
        for (int j = 0; j < c; j++) {
            int gi = groups.group(j);
            double a = Math.exp((t[j] - mt[gi]) * inv);
            double b = Math.exp((s[j] - ms[gi]) * inv);
            k.p[j] = a;
            k.q[j] = b;
            za[gi] += a;
            zb[gi] += b;
            d[gi] += a == 0 ? 0.0 : a * (t[j] - s[j]);
        }
        double[] cq = new double[3];
        double[] cp = new double[3];
        double value = ltkdRow(groups, tau, mt, ms, za, zb, d, logW, gw, values, at, cq, cp);
        if (wantGrad) {
            for (int j = 0; j < c; j++) {
                int gi = groups.group(j);
                k.g[j] += cq[gi] * k.q[j] + cp[gi] * k.p[j];
            }
        }
        return value;
    }

    /**
     * LTKD's row value from its per-group statistics, shared by the kernels: the shifts {@code mt},
     * {@code ms} of each group's exponentials, their sums {@code za}, {@code zb}, and {@code d = Σ p (t - s)}
     * per group. Writes the named terms into {@code values} from {@code at} on, and the gradient constants
     * of each group into {@code cq} and {@code cp}: the gradient of class k in group g is
     * {@code cq_g q_k + cp_g p_k}.
     */
    static double ltkdRow(FusedTerm.LtkdGroups groups, double tau, double[] mt, double[] ms, double[] za,
                          double[] zb, double[] d, double[] logW, double gw, double[] values, int at, double[] cq,
                          double[] cp) {
        double inv = 1 / tau;
        double[] logP = new double[3];
        double[] logQ = new double[3];
        for (int gi = 0; gi < 3; gi++) {
            boolean empty = groups.size(gi) == 0;
            logP[gi] = empty ? Double.NEGATIVE_INFINITY : mt[gi] * inv + Math.log(za[gi]);
            logQ[gi] = empty ? Double.NEGATIVE_INFINITY : ms[gi] * inv + Math.log(zb[gi]);
        }
        double lseT = RowKernel.logSumExp3(logP);
        double lseS = RowKernel.logSumExp3(logQ);
        double[] logPhat = new double[3];
        for (int gi = 0; gi < 3; gi++) {
            logP[gi] -= lseT;
            logQ[gi] -= lseS;
            logPhat[gi] = groups.size(gi) == 0 ? Double.NEGATIVE_INFINITY
                    : logP[gi] + (logW != null ? logW[gi] : 0.0);
        }
        double norm = RowKernel.logSumExp3(logPhat);
        double cross = groups.crossGroupWeight();
        double within = groups.withinGroupWeight();
        double rowCross = 0;
        double rowWithin = 0;
        for (int gi = 0; gi < 3; gi++) {
            values[at + 3 + gi] = 0.0;
            if (groups.size(gi) == 0) {
                continue;
            }
            logPhat[gi] -= norm;
            double pHat = Math.exp(logPhat[gi]);
            rowCross += pHat * (logPhat[gi] - logQ[gi]);
            double v = groups.reweight() ? 1.0 : Math.exp(logP[gi]);
            double kl = d[gi] / (tau * za[gi]) + (ms[gi] - mt[gi]) * inv - Math.log(za[gi]) + Math.log(zb[gi]);
            double part = tau * tau * within * v * kl;
            values[at + 3 + gi] = part;
            rowWithin += part;
            // gradient of group gi: T (α (Q_g - P^_g) q_k|g + β v (q_k|g - p_k|g)), q_k|g = b_k / zb_g
            cq[gi] = gw * tau * (cross * (Math.exp(logQ[gi]) - pHat) + within * v) / zb[gi];
            cp[gi] = -gw * tau * within * v / za[gi];
        }
        rowCross *= tau * tau * cross;
        values[at + 1] = rowCross;
        values[at + 2] = rowWithin;
        return rowCross + rowWithin;
    }
}
