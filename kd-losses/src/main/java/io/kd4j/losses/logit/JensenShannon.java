package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The (symmetric) Jensen-Shannon divergence: {@link GeneralizedJsd} at {@code teacherMixWeight = 0.5},
 * TRL's default {@code beta}:
 * <pre>
 *   p = softmax(t / T),  q = softmax(s / T),  m = (p + q) / 2
 *   L = mean_i [ KL(p_i ‖ m_i) + KL(q_i ‖ m_i) ] / 2               (no T² factor)
 *   dL/ds_ic = (u_ic - q_ic Σ_j u_ij) / (T n),  u_ij = q_ij (log q_ij - log m_ij) / 2
 * </pre>
 * Reference code: TRL {@code GKDTrainer.generalized_jsd_loss(beta=0.5)} (mixture in log space, no
 * {@code T²}); DistiLLM's {@code js_distance} is the same at its {@code lam = 0.5}. Reduction: mean over
 * the valid rows. Bounded by {@code ln 2}.
 *
 * <p>Catalogue name {@code JensenShannon}; parameters: {@code temperature} &gt; 0, default 1.0, and the
 * schedule keys of {@link TemperatureSchedule}. Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class JensenShannon extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final GeneralizedJsd jsd;

    public JensenShannon(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.jsd = new GeneralizedJsd(temperature, 0.5);
    }

    /** JSD at a constant temperature. */
    public static JensenShannon withTemperature(double temperature) {
        return new JensenShannon(TemperatureSchedule.constant(temperature));
    }

    public static JensenShannon fromParams(LossParams p) {
        return new JensenShannon(TemperatureSchedule.fromParams(p, 1.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        return jsd.rowLoss(rows, row, epoch, grad, off, scratch, terms);
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "JensenShannon";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return temperature.asParams();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return jsd.requiredInputs();
    }
}
