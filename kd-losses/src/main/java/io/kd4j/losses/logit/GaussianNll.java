package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Gaussian (uncertainty) distillation, negative log-likelihood form: the student predicts a Gaussian
 * per output dimension (mean {@code mu} and log-variance {@code lv = log sigma²}); the target is an
 * ensemble's Gaussian (mean {@code m}, variance {@code v}, e.g. the mean and the variance of the members'
 * predictions). The loss is the student's expected negative log-likelihood of targets drawn from the
 * teacher's Gaussian, in closed form:
 * <pre>
 *   E_{y ~ N(m, v)} [-log N(y; mu, e^lv)] = 0.5 (lv + (v + (m - mu)²) e^{-lv}) [+ 0.5 log 2 pi]
 *   L = mean_i (1/D) sum_k 0.5 (lv_ik + (v_ik + (m_ik - mu_ik)²) e^{-lv_ik})  [+ 0.5 log 2 pi if full]
 *   dL/dmu = (mu - m) e^{-lv} / (n D),   dL/dlv = 0.5 (1 - (v + (m - mu)²) e^{-lv}) / (n D)
 * </pre>
 * Equivalently, the mean over ensemble members of each member's Gaussian NLL at the member's mean
 * prediction, when {@code v} is the (population) variance of those means: this is the loss that
 * distils an ensemble's spread into one network's predicted variance: the Gaussian (regression)
 * analogue of ensemble distribution distillation (Malinin, Mlodozeniec and Gales, ICLR 2020, who use a
 * Dirichlet for classification). At {@code v = 0} it is exactly PyTorch {@code nn.GaussianNLLLoss(full)(mu, m, e^lv)}
 * (mean reduction over batch × D) without its {@code eps} clamp (the log-variance parameterisation
 * needs none). Its minimum over the student is at {@code mu = m, e^lv = v}, with value
 * {@code 0.5 (log v + 1)}: it does not reach 0; {@link GaussianKl} is this minus the teacher's
 * entropy (same gradient).
 *
 * <p>Layout (student and teacher blocks alike, {@code C = 2D} columns):
 * {@code student_logits = [mu (D) | log-variance (D)]}, {@code teacher_logits = [mean (D) | variance (D)]}
 * (variances &gt;= 0, not log-variances: an ensemble's variance can be 0). In DL4J the student's output
 * layer has {@code 2D} units with the identity activation. Catalogue name {@code GaussianNll};
 * parameter {@code full} (default false, as PyTorch): add the constant {@code 0.5 log 2 pi}.
 */
public final class GaussianNll extends RowwiseLogitLoss {
    private static final double HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
    private final boolean full;

    public GaussianNll(boolean full) {
        this.full = full;
    }

    public static GaussianNll fromParams(LossParams p) {
        return new GaussianNll(p.flag("full", false));
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
            double v = GaussianRows.teacherVariance(rows, row, off, d, k, false, name());
            double lv = s[off + d + k];
            double r = GaussianRows.crossTerm(s[off + k], lv, t[off + k], v, grad, off + k, off + d + k, invD);
            sum += 0.5 * (lv + r) + (full ? HALF_LOG_TWO_PI : 0.0);
        }
        return sum * invD;
    }

    @Override
    public String name() {
        return "GaussianNll";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("full", full);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
