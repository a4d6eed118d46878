package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.S;

/**
 * Standardized DKD ({@code Dkd(standardize=true)}, Sun et al., CVPR 2024, on Zhao et al.'s decoupled KD) in
 * the float32 vector kernel without buffers of z-scores, by {@link VectorStandardizedKd}'s passes: one pass
 * takes both rows' exponentials of their z-scores with the sums DKD and the standardization's gradient need,
 * one pass writes the row's gradient. DKD's non-target softmax is shifted by the largest non-target z-score,
 * so the target class {@code y} is set to the row's largest other value while the exponentials are taken
 * (its exponential is then {@code exp(0) = 1}, which no lane can overflow) and taken out of the sums after
 * them, in double; its entries of {@code p} and {@code q} are set to 0, as {@link VectorRowKernel#pairExps}
 * leaves an excluded class. With {@code q}, {@code p} the non-target exponentials and {@code kq}, {@code kp},
 * {@code δ_y} DKD's coefficients ({@link VectorGroupTerms#dkd}), the gradient with respect to the student's
 * z-scores is {@code g_z = kq q + kp p + δ_y e_y}, and
 * <pre>
 *   dL/ds_j = (g_z,j - mean g_z) / D  -  (Σ g_z z) z_j / ((C - 1) std),
 *   Σ g_z z = kq Σ q z + kp Σ p z + δ_y z_y,
 * </pre>
 * {@code mean g_z} being 0: {@code Σ g_z = gs α (b_s1 + b_s2 - b_t1 - b_t2) = 0}, DKD depending on the
 * student only through its softmax. The z-score buffers' way (the term on standardized copies, its gradient
 * taken back through the standardization in further passes) took about 80 ms at 2048 × 32000
 * (docs/performance-log.md, "Kernel CPU time", fifteenth round).
 */
final class VectorStandardizedDkd {
    private VectorStandardizedDkd() {
    }

    /**
     * Standardized DKD on {@code k}'s row buffers {@code t} and {@code s} with target {@code y}; writes its two
     * parts to {@code values[at + 1]} and {@code values[at + 2]} and returns their sum; with {@code wantGrad}
     * writes (or adds, after earlier terms) its gradient, {@code gw} as {@link VectorGroupTerms#dkd}'s.
     * The rows' maxima and statistics and the scratch arrays are as {@link VectorStandardizedKd#kd}'s.
     */
    static double dkd(VectorRowKernel k, int c, int y, FusedTerm term, boolean wantGrad, double gw, double[] values,
                      int at, float maxS, float maxT, double[] statsS, double[] statsT, float[] consts,
                      double[] sums) {
        DkdRow.requireTwoClasses(c);
        float[] s = k.s;
        float[] t = k.t;
        float[] p = k.p;
        float[] q = k.q;
        float sy = s[y];
        float ty = t[y];
        float msn = sy == maxS ? VectorSums.maxExcept(s, c, y) : maxS;
        float mtn = ty == maxT ? VectorSums.maxExcept(t, c, y) : maxT;
        s[y] = msn;
        t[y] = mtn;
        try {
            VectorStandardizedKd.exps(k, c, term.temperature(), msn, mtn, statsS, statsT, consts, sums);
        } finally {
            s[y] = sy;
            t[y] = ty;
        }
        float zmt = consts[3];
        float zms = consts[8];
        // the target's share of the sums, as the pass added it: exponentials of exp(0), its difference of
        // z-scores relative to the reference values (in the lanes) or not (in the tail)
        double ay = p[y];
        double by = q[y];
        p[y] = 0f;
        q[y] = 0f;
        double dy = y < S.loopBound(c)
                ? (double) ((zmt - consts[4]) - (zms - consts[9])) + ((double) consts[4] - consts[9])
                : (double) zmt - zms;
        double ztn = sums[0] - ay;
        double zsn = sums[1] - by;
        double pdn = sums[2] - ay * dy;
        double pzn = sums[3] - ay * zms;
        double qzn = sums[4] - by * zms;
        // the target's z-scores, by the float operations of the pass
        double zsy = (sy - consts[5] - consts[6]) * consts[7];
        double zty = (ty - consts[0] - consts[1]) * consts[2];

        DkdRow r = DkdRow.of(term, gw, zmt, ztn, pdn, zms, zsn, zty, zsy);
        if (wantGrad) {
            float kq = (float) r.kq();
            float kp = (float) r.kp();
            float dTarget = (float) r.targetDelta();
            double std = statsS[2];
            double gzz = (double) kq * qzn + (double) kp * pzn + (double) dTarget * zsy;
            float second = (float) (std > 0 ? gzz / ((c - 1) * std) : 0.0);
            VectorStandardizedKd.write(k, c, kq, kp, -second, consts);
            k.addAt(y, dTarget * consts[7]);
        }
        return r.value(values, at);
    }
}
