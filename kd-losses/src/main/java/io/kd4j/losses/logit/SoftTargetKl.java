package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
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
 * Soft-target KL divergence (Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
 * Network", 2015): the forward KL from the teacher's to the student's softened distribution,
 * batch mean, times {@code T²} after the mean:
 * <pre>
 *   p_i = softmax(t_i / T),  q_i = softmax(s_i / T)
 *   L   = T² · mean_i sum_c p_ic (log p_ic - log q_ic)
 *   dL/ds_i = T (q_i - p_i) / n
 * </pre>
 * Reference convention: mdistiller {@code kd_loss} ({@code F.kl_div(log_softmax(s/T), softmax(t/T),
 * reduction="none").sum(1).mean() * T**2}) and RepDistiller {@code DistillKL}
 * ({@code kl_div(..., size_average=False) * T**2 / batch}): identical values.
 *
 * <p>Catalogue name {@code SoftTargetKl}; parameters: {@code temperature} &gt; 0, default 4.0
 * (mdistiller's CIFAR-100 KD config), and the schedule keys of {@link TemperatureSchedule};
 * {@code standardize} (default false): z-score both logit rows first ({@link StandardizedLogits},
 * Sun et al., CVPR 2024; the temperature then acts on the z-scores, {@code T²} kept).
 * Inputs: {@code student_logits}, {@code teacher_logits}. Combine it with {@link CrossEntropy}
 * through an objective's named weights, e.g. {@code 0.1*CrossEntropy + 0.9*SoftTargetKl}.
 */
public final class SoftTargetKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;

    public SoftTargetKl(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** KD at a constant temperature. */
    public static SoftTargetKl withTemperature(double temperature) {
        return new SoftTargetKl(TemperatureSchedule.constant(temperature));
    }

    /**
     * Reads the catalogue parameters: the temperature keys and {@code standardize} (default false;
     * when true the loss is wrapped in {@link StandardizedLogits}, so the result is a {@link LogitLoss}).
     */
    public static LogitLoss fromParams(LossParams p) {
        SoftTargetKl kd = new SoftTargetKl(TemperatureSchedule.fromParams(p, 4.0));
        return p.flag("standardize", false) ? new StandardizedLogits(kd) : kd;
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        LogitMath.logSoftmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        double kl = 0;
        for (int j = 0; j < c; j++) {
            double logP = scratch[j];
            double logQ = scratch[c + j];
            double p = Math.exp(logP);
            kl += p * (logP - logQ);
            grad[off + j] = tau * (Math.exp(logQ) - p);
        }
        return tau * tau * kl;
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "SoftTargetKl";
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
