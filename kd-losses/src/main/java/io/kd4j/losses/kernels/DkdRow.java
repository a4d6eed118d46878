package io.kd4j.losses.kernels;

/**
 * One row of {@link io.kd4j.losses.logit.Dkd} from its non-target sums, shared by every kernel's DKD (the
 * scalar and float64 loops, the vector lanes, the standardized lanes): with {@code p} and {@code q} the
 * teacher's and the student's non-target exponentials {@code exp((x_j - m) / T)} shifted by the largest
 * non-target value {@code m} of each row, {@code Zt = Σ p}, {@code Zs = Σ q} and {@code D = Σ p (t - s)},
 * <pre>
 *   lse_nt = mt / T + log Zt,  lse_t = logaddexp(lse_nt, t_y / T)          (the same for the student)
 *   b_1 = exp(t_y / T - lse_t), b_2 = exp(lse_nt - lse_t)                    (binary target / non-target)
 *   TCKD = Σ_i b_t,i (log b_t,i - log b_s,i),  NCKD = D / (T Zt) - lse_nt,t + lse_nt,s
 *   parts: w T² α TCKD and w T² β NCKD  (w the warm-up factor)
 * </pre>
 * and the gradient with respect to the student's logits {@code kq q + kp p} at the non-target classes and
 * {@code targetDelta} at the target, {@code gs = gw w T}:
 * {@code kq = gs (α (b_s,2 - b_t,2) + β) / Zs}, {@code kp = -gs β / Zt},
 * {@code targetDelta = gs α (b_s,1 - b_t,1)}.
 *
 * @param targetPart {@code w T² α TCKD}
 * @param nonTargetPart {@code w T² β NCKD}
 * @param kq the coefficient of the student's non-target exponentials in the gradient
 * @param kp the coefficient of the teacher's non-target exponentials in the gradient
 * @param targetDelta the gradient at the target class
 */
record DkdRow(double targetPart, double nonTargetPart, double kq, double kp, double targetDelta) {

    /** DKD's rule on the row's width: a target class and at least one other. */
    static void requireTwoClasses(int c) {
        if (c < 2) {
            throw new IllegalArgumentException("Dkd: needs at least 2 classes (a target and a non-target), got " + c);
        }
    }

    /**
     * The row's parts and gradient coefficients; {@code gw} is the gradient's weight (0 for none), {@code mt},
     * {@code ms} the non-target shifts, {@code ty}, {@code sy} the target's logits.
     */
    static DkdRow of(FusedTerm term, double gw, double mt, double zt, double d, double ms, double zs, double ty,
                     double sy) {
        double tau = term.temperature();
        double inv = 1 / tau;
        double lseNonT = mt * inv + Math.log(zt);
        double lseNonS = ms * inv + Math.log(zs);
        double lseT = RowKernel.logAddExp(lseNonT, ty * inv);
        double lseS = RowKernel.logAddExp(lseNonS, sy * inv);
        double logBs1 = sy * inv - lseS;
        double logBs2 = lseNonS - lseS;
        double logBt1 = ty * inv - lseT;
        double logBt2 = lseNonT - lseT;
        double bt1 = Math.exp(logBt1);
        double bt2 = Math.exp(logBt2);
        double tckd = klTerm(bt1, logBt1, logBs1) + klTerm(bt2, logBt2, logBs2);
        double nckd = d / (tau * zt) - lseNonT + lseNonS;
        FusedTerm.DkdWeights w = term.dkdWeights();
        double alpha = w.targetWeight();
        double beta = w.nonTargetWeight();
        double gs = gw * w.warmupFactor() * tau;
        double scale = w.warmupFactor() * tau * tau;
        return new DkdRow(scale * alpha * tckd, scale * beta * nckd,
                gs * (alpha * (Math.exp(logBs2) - bt2) + beta) / zs, -gs * beta / zt,
                gs * alpha * (Math.exp(logBs1) - bt1));
    }

    /** Writes the parts to {@code values[at + 1]} and {@code values[at + 2]} and returns their sum. */
    double value(double[] values, int at) {
        values[at + 1] = targetPart;
        values[at + 2] = nonTargetPart;
        return targetPart + nonTargetPart;
    }

    /** {@code p (log p - log q)} with the limit 0 at {@code p = 0}. */
    private static double klTerm(double p, double logP, double logQ) {
        return p > 0 ? p * (logP - logQ) : 0.0;
    }
}
