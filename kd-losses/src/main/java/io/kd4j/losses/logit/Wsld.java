package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Weighted soft labels (Zhou, Song, Chen, Zhou, Wang, Yuan and Zhang, "Rethinking Soft Labels for
 * Knowledge Distillation: A Bias-Variance Tradeoff Perspective", ICLR 2021): the soft cross-entropy
 * at temperature T, weighted per sample by how much worse the student does on the label than the
 * teacher. Only the soft term: the hard cross-entropy is the objective's {@link CrossEntropy} term.
 *
 * <pre>
 *   CE_s = -log softmax(s)_y,  CE_t = -log softmax(t)_y                (T = 1, labels)
 *   w = 1 - exp(-max(CE_s / (CE_t + 1e-7), 0))                         (detached: no gradient)
 *   L = T² · mean_i w_i · ( -sum_j softmax(t_i/T)_j log softmax(s_i/T)_j )
 *   dL/ds_i = T w_i (softmax(s_i/T) - softmax(t_i/T)) / n
 * </pre>
 * The weight is treated as a constant in the gradient, as the reference computes it from detached
 * logits; so the gradient is that of the value with {@code w} frozen, not of the value as a function
 * of {@code s} through {@code w} as well. The soft term is a cross-entropy (the reference's
 * {@code softmax_loss}), not a KL: at {@code s = t} the value is {@code T² mean w H(p)} and the
 * gradient is zero.
 *
 * <p><b>Reference code:</b> bellymonster/Weighted-Soft-Label-Distillation {@code knowledge_distiller.py}
 * {@code WSLDistiller}: {@code T = 2}, {@code alpha = 2.5}, {@code soft_loss = T² mean(focal_weight *
 * softmax_loss)}, eps {@code 1e-7}, {@code loss = hard_loss + alpha * soft_loss}. The reference's
 * {@code alpha} is the objective weight here: {@code CrossEntropy + 2.5*Wsld(temperature=2.0)}.
 *
 * <p><b>Parameters</b> (catalogue name {@code Wsld}): {@code temperature} (T, &gt; 0, default 2.0,
 * plus the {@link TemperatureSchedule} keys). <b>Inputs:</b> {@code student_logits},
 * {@code teacher_logits}, {@code labels}.
 */
public final class Wsld extends RowwiseLogitLoss {
    /** The eps of the reference's weight ratio {@code CE_s / (CE_t + 1e-7)}. */
    public static final double EPS = 1e-7;

    private final TemperatureSchedule temperature;

    public Wsld(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** WSLD at a constant temperature. */
    public static Wsld withTemperature(double temperature) {
        return new Wsld(TemperatureSchedule.constant(temperature));
    }

    public static Wsld fromParams(LossParams p) {
        return new Wsld(TemperatureSchedule.fromParams(p, 2.0));
    }

    /** The sample weight {@code 1 - exp(-max(ceStudent / (ceTeacher + 1e-7), 0))}. */
    public static double sampleWeight(double ceStudent, double ceTeacher) {
        return 1.0 - Math.exp(-Math.max(ceStudent / (ceTeacher + EPS), 0.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        int y = rows.labels()[row];
        double tau = temperature.at(epoch);
        double[] s = rows.student();
        double[] t = rows.teacher();
        double ceS = LogitMath.logSumExp(s, off, c, 1.0) - s[off + y];
        double ceT = LogitMath.logSumExp(t, off, c, 1.0) - t[off + y];
        double w = sampleWeight(ceS, ceT);
        LogitMath.logSoftmax(t, off, c, tau, scratch, 0);
        LogitMath.logSoftmax(s, off, c, tau, scratch, c);
        double cross = 0;
        for (int j = 0; j < c; j++) {
            double p = Math.exp(scratch[j]);
            cross -= p * scratch[c + j];
            grad[off + j] = tau * w * (Math.exp(scratch[c + j]) - p);
        }
        return tau * tau * w * cross;
    }

    @Override
    public String name() {
        return "Wsld";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return temperature.asParams();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS, InputKind.LABELS);
    }
}
