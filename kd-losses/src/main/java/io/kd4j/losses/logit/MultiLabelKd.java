package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Multi-label soft-target distillation: every class is an independent yes/no decision, scored by a
 * sigmoid, and the student matches the teacher's softened per-class Bernoulli distributions:
 * <pre>
 *   a = t / T,  b = s / T,  p = sigmoid(a),  q = sigmoid(b)
 *   KL(Bern(p) || Bern(q)) = p log(p/q) + (1-p) log((1-p)/(1-q)) = softplus(b) - softplus(a) - p (b - a)
 *   L = T² · mean_i sum_c KL(Bern(p_ic) || Bern(q_ic))
 *   dL/ds_ic = T (q_ic - p_ic) / n
 * </pre>
 * The closed form in {@code softplus} is exact and stays finite for any finite logits (no
 * {@code log(0)}, no epsilon); it is 0 exactly when student and teacher logits are equal.
 *
 * <p>Relation to the form used in practice: most multi-label KD code calls
 * {@code F.binary_cross_entropy_with_logits(s/T, sigmoid(t/T))}, the cross-entropy
 * {@code -p log q - (1-p) log(1-q)}. That equals this KL plus the teacher's Bernoulli entropy
 * {@code H(p) = -p log p - (1-p) log(1-p)}, which does not depend on the student: the gradients are
 * identical and the values differ by {@code T² · mean_i sum_c H(p_ic)}, so the BCE form never reaches 0.
 * With {@code reduction='mean'} PyTorch also divides by the number of classes; this loss sums over
 * classes (batch mean per row, like the softmax KD losses), so multiply by {@code C} to compare.
 *
 * <p>Reference convention: per-class sigmoid KD as in the binary-relevance distillation baselines of the
 * multi-label KD literature; no single reference implementation; temperature applied to both logits,
 * {@code x T²} after the mean as in Hinton KD. Catalogue name {@code MultiLabelKd}; parameters:
 * {@code temperature} &gt; 0, default 1.0 (plain sigmoid targets, the usual multi-label setting), and
 * the schedule keys of {@link TemperatureSchedule}. Inputs: {@code student_logits},
 * {@code teacher_logits} (one logit per label, not a softmax over classes).
 */
public final class MultiLabelKd extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;

    public MultiLabelKd(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** Multi-label KD at a constant temperature. */
    public static MultiLabelKd withTemperature(double temperature) {
        return new MultiLabelKd(TemperatureSchedule.constant(temperature));
    }

    public static MultiLabelKd fromParams(LossParams p) {
        return new MultiLabelKd(TemperatureSchedule.fromParams(p, 1.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        double[] s = rows.student();
        double[] t = rows.teacher();
        double sum = 0;
        for (int j = 0; j < c; j++) {
            double a = t[off + j] / tau;
            double b = s[off + j] / tau;
            double p = sigmoid(a);
            sum += softplus(b) - softplus(a) - p * (b - a);
            grad[off + j] = tau * (sigmoid(b) - p);
        }
        return tau * tau * sum;
    }

    /** log(1 + e^x) without overflow. */
    static double softplus(double x) {
        return Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** 1 / (1 + e^-x) without overflow. */
    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    @Override
    public String name() {
        return "MultiLabelKd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return temperature.asParams();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
