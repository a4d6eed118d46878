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
 * Reverse KL divergence, the mode-seeking KL from the student's to the teacher's distribution
 * (MiniLLM, Gu et al. 2024; DistiLLM, Ko et al. 2024; GKD, Agarwal et al. 2024 at {@code beta = 1}):
 * <pre>
 *   p_i = softmax(t_i / T),  q_i = softmax(s_i / T)
 *   L   = mean_i sum_c q_ic (log q_ic - log p_ic)                 (no T² factor)
 *   dL/ds_ic = q_ic (log q_ic - log p_ic - KL_i) / (T n)          (KL_i the row's value)
 * </pre>
 * Reference code: DistiLLM {@code distillm/losses.py} {@code reverse_kl} ({@code -sum(q log p - q log q)}
 * per token, mean over the tokens whose label is not -100, float32, no temperature) and TRL
 * {@code GKDTrainer.generalized_jsd_loss} with {@code beta = 1}
 * ({@code F.kl_div(teacher_log_probs, student_log_probs, log_target=True)}, logits divided by the
 * temperature, no {@code T²}). Like TRL and DistiLLM, and unlike {@link SoftTargetKl}, the value is
 * <b>not</b> multiplied by {@code T²}. Reduction: mean over the valid rows (token mean over the valid
 * positions of a sequence), as DistiLLM and TRL with labels. No epsilon: log-probabilities are exact
 * log-softmax values.
 *
 * <p>Catalogue name {@code ReverseKl}; parameters: {@code temperature} &gt; 0, default 1.0 (DistiLLM
 * applies none; TRL's loss default), and the schedule keys of {@link TemperatureSchedule}. Inputs:
 * {@code student_logits}, {@code teacher_logits}.
 */
public final class ReverseKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;

    public ReverseKl(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** Reverse KL at a constant temperature. */
    public static ReverseKl withTemperature(double temperature) {
        return new ReverseKl(TemperatureSchedule.constant(temperature));
    }

    public static ReverseKl fromParams(LossParams p) {
        return new ReverseKl(TemperatureSchedule.fromParams(p, 1.0));
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
            double logQ = scratch[c + j];
            // u_j = q_j (log q_j - log p_j); the "+1" of d/dq cancels in the softmax chain rule
            double u = DivergenceMath.weighted(Math.exp(logQ), logQ, scratch[j]);
            scratch[2 * c + j] = u;
            kl += u;
        }
        DivergenceMath.softmaxChain(scratch, 2 * c, scratch, c, c, 1.0 / tau, grad, off);
        return kl;
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "ReverseKl";
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
