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
 * Skew KL divergence of DistiLLM (Ko et al., "DistiLLM: Towards Streamlined Distillation for Large
 * Language Models", ICML 2024, "skew KLD"): the forward KL from the teacher to a mixture that leans towards
 * the teacher by {@code α = skew}:
 * <pre>
 *   p = softmax(t / T),  q = softmax(s / T),  m = α p + (1 - α) q        (log space, logsumexp)
 *   L = mean_i sum_c p_ic (log p_ic - log m_ic)                           (no T² factor)
 *   dL/ds_ic = (u_ic - q_ic Σ_j u_ij) / (T n),  u_ij = -(1 - α) q_ij p_ij / m_ij
 * </pre>
 * <b>Deviation from the reference value</b>: DistiLLM's {@code distillm/losses.py}
 * {@code skewed_forward_kl} returns the cross-entropy form {@code -sum_c p_c log m_c}, which omits the
 * teacher entropy {@code -sum_c p_c log p_c}. We return the true divergence, which is zero when the
 * student equals the teacher; our value is DistiLLM's minus {@code H(p)}, and since {@code H(p)} does
 * not depend on the student, the <b>gradients are identical</b>. DistiLLM computes
 * {@code log(α p + (1 - α) q)} from float32 probabilities (which can underflow to {@code log 0}); we
 * compute the mixture in log space. Other conventions as DistiLLM: no temperature there (our default
 * 1.0), applied to both logits when given, no {@code T²}; token mean over the valid positions.
 *
 * <p>Catalogue name {@code SkewKl}; parameters: {@code skew} (DistiLLM's {@code lam} /
 * {@code --skew-alpha}, the teacher's weight in the mixture), in [0, 1], default 0.1 (0 is the forward
 * KL, 1 makes the loss identically zero); {@code temperature} &gt; 0, default 1.0, and the schedule keys
 * of {@link TemperatureSchedule}. Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class SkewKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double skew;

    /**
     * @param temperature the temperature schedule
     * @param skew α, the teacher's weight in the mixture, in [0, 1]
     */
    public SkewKl(TemperatureSchedule temperature, double skew) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.skew = Checks.inRange("skew", skew, 0.0, 1.0);
    }

    /** Skew KL at a constant temperature. */
    public static SkewKl of(double temperature, double skew) {
        return new SkewKl(TemperatureSchedule.constant(temperature), skew);
    }

    public static SkewKl fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 1.0);
        return new SkewKl(t, p.real("skew", 0.1));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        LogitMath.logSoftmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        double logSkew = Math.log(skew);
        double logRest = Math.log1p(-skew);
        double value = 0;
        for (int j = 0; j < c; j++) {
            double logP = scratch[j];
            double logQ = scratch[c + j];
            double logM = LogitMath.logAddExp(logSkew + logP, logRest + logQ);
            value += DivergenceMath.weighted(Math.exp(logP), logP, logM);
            scratch[2 * c + j] = skew == 1 ? 0.0 : -(1 - skew) * Math.exp(logQ + logP - logM);
        }
        DivergenceMath.softmaxChain(scratch, 2 * c, scratch, c, c, 1.0 / tau, grad, off);
        return value;
    }

    @Override
    public String name() {
        return "SkewKl";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(temperature.asParams());
        m.put("skew", skew);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
