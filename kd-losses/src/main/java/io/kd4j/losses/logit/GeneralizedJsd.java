package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Generalized Jensen-Shannon divergence of GKD (Agarwal et al., "On-Policy Distillation of Language
 * Models: Learning from Self-Generated Mistakes", ICLR 2024, Eq. 1), exactly as TRL's
 * {@code GKDTrainer.generalized_jsd_loss}. With {@code β = teacherMixWeight}:
 * <pre>
 *   p = softmax(t / T) (teacher),  q = softmax(s / T) (student)
 *   β = 0:      l = KL(p ‖ q)                                    (forward KL, TRL's special case)
 *   β = 1:      l = KL(q ‖ p)                                    (reverse KL, TRL's special case)
 *   0 &lt; β &lt; 1:  m = β p + (1 - β) q                              (computed in log space, logsumexp)
 *               l = β KL(p ‖ m) + (1 - β) KL(q ‖ m)
 *   L = mean over valid rows of l                                (no T² factor)
 *   dl/ds_c = (u_c - q_c Σ_j u_j) / T, with u_j = (1 - β) q_j (log q_j - log m_j)   (0 &lt; β &lt; 1)
 *             (q - p) / T for β = 0;  q_c (log q_c - log p_c - l) / T for β = 1
 * </pre>
 * <b>TRL's discontinuity</b>, kept on purpose: the general formula tends to 0 as {@code β → 0} (then
 * {@code m → q}) and as {@code β → 1} ({@code m → p}), while the special cases at exactly 0 and 1 are
 * the forward and reverse KL. So {@code teacherMixWeight=1e-9} is almost zero, {@code teacherMixWeight=0}
 * is the full forward KL.
 *
 * <p>Reference convention (TRL {@code generalized_jsd_loss}): temperature divides both logits, no
 * {@code T²}; no epsilon (log-space mixture). Reduction: TRL's trainer passes labels and divides by
 * the number of label positions that are not -100, i.e. the token mean over valid positions, which is
 * ours. Without labels, TRL's {@code "batchmean"} divides by {@code size(0) * size(1)} in older
 * versions (batch × vocabulary on 2-d input, batch × time on {@code [B, T, V]}) and by {@code size(0)}
 * in newer ones; ours is always the mean over valid rows.
 *
 * <p>Catalogue name {@code GeneralizedJsd}; parameters: {@code teacherMixWeight} (TRL/GKD's
 * {@code beta}, weight of the teacher in the mixture, in [0, 1], default 0.5 as TRL's
 * {@code GKDConfig.beta}); {@code temperature} &gt; 0, default 1.0: the temperature TRL's loss is
 * called with ({@code GKDTrainer.compute_loss} does not pass one, so the function default 1.0 applies;
 * {@code GKDConfig.temperature = 0.9} is only the sampling temperature of on-policy generation), plus
 * the schedule keys of {@link TemperatureSchedule}. Inputs: {@code student_logits},
 * {@code teacher_logits}.
 */
public final class GeneralizedJsd extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double teacherMixWeight;

    /**
     * @param temperature the temperature schedule
     * @param teacherMixWeight β, the teacher's weight in the mixture, in [0, 1]
     */
    public GeneralizedJsd(TemperatureSchedule temperature, double teacherMixWeight) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.teacherMixWeight = Checks.inRange("teacherMixWeight", teacherMixWeight, 0.0, 1.0);
    }

    /** Generalized JSD at a constant temperature. */
    public static GeneralizedJsd of(double temperature, double teacherMixWeight) {
        return new GeneralizedJsd(TemperatureSchedule.constant(temperature), teacherMixWeight);
    }

    public static GeneralizedJsd fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 1.0);
        return new GeneralizedJsd(t, p.real("teacherMixWeight", 0.5));
    }

    /** β, the teacher's weight in the mixture. */
    public double teacherMixWeight() {
        return teacherMixWeight;
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        double beta = teacherMixWeight;
        LogitMath.logSoftmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        int u = 2 * c;
        double value = 0;
        if (beta == 0) {
            for (int j = 0; j < c; j++) {
                double p = Math.exp(scratch[j]);
                value += DivergenceMath.weighted(p, scratch[j], scratch[c + j]);
                grad[off + j] = (Math.exp(scratch[c + j]) - p) / tau;
            }
            return value;
        }
        if (beta == 1) {
            for (int j = 0; j < c; j++) {
                double logQ = scratch[c + j];
                scratch[u + j] = DivergenceMath.weighted(Math.exp(logQ), logQ, scratch[j]);
                value += scratch[u + j];
            }
            DivergenceMath.softmaxChain(scratch, u, scratch, c, c, 1.0 / tau, grad, off);
            return value;
        }
        double logBeta = Math.log(beta);
        double logOneMinusBeta = Math.log1p(-beta);
        for (int j = 0; j < c; j++) {
            double logP = scratch[j];
            double logQ = scratch[c + j];
            double logM = LogitMath.logAddExp(logBeta + logP, logOneMinusBeta + logQ);
            double klQ = DivergenceMath.weighted(Math.exp(logQ), logQ, logM);
            value += beta * DivergenceMath.weighted(Math.exp(logP), logP, logM) + (1 - beta) * klQ;
            scratch[u + j] = (1 - beta) * klQ;
        }
        DivergenceMath.softmaxChain(scratch, u, scratch, c, c, 1.0 / tau, grad, off);
        return value;
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "GeneralizedJsd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(temperature.asParams());
        m.put("teacherMixWeight", teacherMixWeight);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
