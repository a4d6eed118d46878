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
 * Skew reverse KL divergence of DistiLLM (Ko et al., ICML 2024, "skew reverse KLD"): the reverse KL
 * from the student to a mixture that leans towards the student by {@code α = skew}:
 * <pre>
 *   p = softmax(t / T),  q = softmax(s / T),  m = (1 - α) p + α q          (log space, logsumexp)
 *   L = mean_i sum_c q_ic (log q_ic - log m_ic)                            (no T² factor)
 *   dL/ds_ic = (u_ic - q_ic Σ_j u_ij) / (T n),
 *              u_ij = q_ij (log q_ij - log m_ij) - α q_ij² / m_ij
 * </pre>
 * (the {@code +q_ij} of {@code q ∂/∂q} cancels in the softmax chain rule and is left out). Reference
 * code: DistiLLM {@code distillm/losses.py} {@code skewed_reverse_kl}
 * ({@code -sum(q log m - q log q)} per token, mean over the tokens whose label is not -100, float32,
 * no temperature): the same value, which, unlike {@code skewed_forward_kl}, is a true divergence. We
 * compute {@code log m} in log space where DistiLLM takes {@code log} of float32 probabilities.
 * Temperature, when given, divides both logits; no {@code T²}.
 *
 * <p>Catalogue name {@code SkewReverseKl}; parameters: {@code skew} (DistiLLM's {@code lam} /
 * {@code --skew-alpha}, the student's weight in the mixture), in [0, 1], default 0.1 (0 is the reverse
 * KL, 1 makes the loss identically zero); {@code temperature} &gt; 0, default 1.0, and the schedule keys
 * of {@link TemperatureSchedule}. Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class SkewReverseKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double skew;

    /**
     * @param temperature the temperature schedule
     * @param skew α, the student's weight in the mixture, in [0, 1]
     */
    public SkewReverseKl(TemperatureSchedule temperature, double skew) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.skew = Checks.inRange("skew", skew, 0.0, 1.0);
    }

    /** Skew reverse KL at a constant temperature. */
    public static SkewReverseKl of(double temperature, double skew) {
        return new SkewReverseKl(TemperatureSchedule.constant(temperature), skew);
    }

    public static SkewReverseKl fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 1.0);
        return new SkewReverseKl(t, p.real("skew", 0.1));
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
            double logM = LogitMath.logAddExp(logRest + logP, logSkew + logQ);
            double kl = DivergenceMath.weighted(Math.exp(logQ), logQ, logM);
            value += kl;
            // with skew > 0, 2 log q - log m <= log q - log skew, so the exponential cannot overflow
            scratch[2 * c + j] = skew == 0 ? kl : kl - skew * Math.exp(2 * logQ - logM);
        }
        DivergenceMath.softmaxChain(scratch, 2 * c, scratch, c, c, 1.0 / tau, grad, off);
        return value;
    }

    @Override
    public String name() {
        return "SkewReverseKl";
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
