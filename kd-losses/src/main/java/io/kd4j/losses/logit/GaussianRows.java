package io.kd4j.losses.logit;

import io.kd4j.losses.api.LogitRows;

/**
 * Shared arithmetic of the Gaussian (uncertainty) distillation losses {@link GaussianNll} and
 * {@link GaussianKl}: the layout check and the per-dimension cross term. Rows are
 * {@code student = [mean (D) | log-variance (D)]}, {@code teacher = [mean (D) | variance (D)]}.
 */
final class GaussianRows {
    private GaussianRows() {
    }

    /** D, the number of output dimensions; an odd or zero column count is an error. */
    static int dimensions(LogitRows rows, String lossName) {
        int c = rows.classes();
        if (c < 2 || c % 2 != 0) {
            throw new IllegalArgumentException(lossName + ": outputs must be [means (D) | log-variances (D)], an even "
                    + "number of columns >= 2, got " + c);
        }
        return c / 2;
    }

    /** The teacher variance of dimension {@code k} of a row, checked against the loss's rule. */
    static double teacherVariance(LogitRows rows, int row, int off, int d, int k, boolean strictlyPositive,
                                  String lossName) {
        double v = rows.teacher()[off + d + k];
        if (strictlyPositive ? !(v > 0) : !(v >= 0)) {
            throw new IllegalArgumentException(lossName + ": teacher variance must be " + (strictlyPositive ? "> 0" : ">= 0")
                    + " (teacher_logits columns D..2D-1 hold variances, not log-variances), got " + v + " at row "
                    + rows.position(row) + ", dimension " + k);
        }
        return v;
    }

    /**
     * Adds the gradient of {@code 0.5 (lv + (v + (m - mu)²) e^{-lv}) / D} with respect to {@code mu}
     * and {@code lv} into {@code grad} and returns {@code r = (v + (m - mu)²) e^{-lv}}, computed in
     * log space so that a zero numerator gives 0 (never {@code 0 · inf = NaN}).
     */
    static double crossTerm(double mu, double lv, double m, double v, double[] grad, int muIndex, int lvIndex,
                            double invD) {
        double diff = mu - m;
        double a = v + diff * diff;
        double r = a == 0 ? 0.0 : Math.exp(Math.log(a) - lv);
        double dMu = diff == 0 ? 0.0 : Math.signum(diff) * Math.exp(Math.log(Math.abs(diff)) - lv);
        grad[muIndex] = dMu * invD;
        grad[lvIndex] = 0.5 * (1.0 - r) * invD;
        return r;
    }
}
