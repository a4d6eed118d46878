package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Gaussian (uncertainty) distillation, KL form: the KL divergence from the teacher's Gaussian
 * {@code N(m, v)} (an ensemble's mean and variance) to the student's {@code N(mu, e^lv)}, per output
 * dimension, in closed form:
 * <pre>
 *   KL(N(m, v) || N(mu, e^lv)) = 0.5 (lv - log v + (v + (m - mu)²) e^{-lv} - 1)
 *   L = mean_i (1/D) sum_k KL_ik
 *   dL/dmu = (mu - m) e^{-lv} / (n D),   dL/dlv = 0.5 (1 - (v + (m - mu)²) e^{-lv}) / (n D)
 * </pre>
 * This is {@link GaussianNll} minus the teacher's differential entropy {@code 0.5 log(2 pi e v)},
 * which does not depend on the student: the same gradient, and a value that is 0 exactly when the
 * student's Gaussian equals the teacher's. The forward direction (teacher first) is the one that
 * distils an ensemble's predictive distribution (the Gaussian analogue of ensemble distribution
 * distillation, Malinin et al., ICLR 2020). "Knowledge Distillation of Uncertainty using Deep Latent Factor Model" (arXiv 2510.19290,
 * 2025) also distils an ensemble into a student Gaussian, but estimates the teacher's mean and covariance
 * with a deep latent factor model fitted by EM: that estimation is not part of this loss, whose targets
 * are given (e.g. the members' sample mean and variance). The diagonal multivariate KL is the sum over dimensions; this loss
 * takes the mean over the {@code D} dimensions (as {@link GaussianNll} and {@link RegressionKd} do),
 * so multiply by {@code D} for the multivariate KL.
 *
 * <p>Layout as {@link GaussianNll}: {@code student_logits = [mu (D) | log-variance (D)]},
 * {@code teacher_logits = [mean (D) | variance (D)]}; here every teacher variance must be &gt; 0 (the
 * KL to a point mass is infinite: use {@link GaussianNll} when an ensemble can agree exactly).
 * Catalogue name {@code GaussianKl}; no parameters.
 */
public final class GaussianKl extends RowwiseLogitLoss {

    public GaussianKl() {
    }

    public static GaussianKl fromParams(LossParams p) {
        return new GaussianKl();
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        GaussianRows.dimensions(rows, name());
        return super.evaluate(rows, epoch);
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int d = rows.classes() / 2;
        double invD = 1.0 / d;
        double[] s = rows.student();
        double[] t = rows.teacher();
        double sum = 0;
        for (int k = 0; k < d; k++) {
            double v = GaussianRows.teacherVariance(rows, row, off, d, k, true, name());
            double lv = s[off + d + k];
            double r = GaussianRows.crossTerm(s[off + k], lv, t[off + k], v, grad, off + k, off + d + k, invD);
            sum += 0.5 * ((lv - Math.log(v)) + (r - 1.0));
        }
        return sum * invD;
    }

    @Override
    public String name() {
        return "GaussianKl";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }

    @Override
    public String describe() {
        return "GaussianKl";
    }
}
