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
 * Total variation distance between the teacher's and the student's softened distributions (DistiLLM,
 * Ko et al., ICML 2024, baseline "TVD"; Wen et al. 2023, "f-Divergence Minimization for Sequence-Level
 * Knowledge Distillation"):
 * <pre>
 *   p = softmax(t / T),  q = softmax(s / T)
 *   L = mean_i 0.5 sum_c |p_ic - q_ic|                                    (no T² factor)
 *   dL/ds_ic = (u_ic - q_ic Σ_j u_ij) / (T n),  u_ij = 0.5 q_ij sign(q_ij - p_ij)
 * </pre>
 * The absolute value is not differentiable where {@code p_c = q_c}; the gradient is the subgradient
 * with {@code sign(0) = 0} (as {@code torch.abs}'s backward), so it is exactly zero when student and
 * teacher agree; differences {@code |q_c - p_c| <= 1e-12} count as ties (rounding noise between two
 * routes to the same probability, see {@link SparseTopKTvd}), where torch's sign is 0 only at exact 0. Reference code: DistiLLM {@code distillm/losses.py} {@code tv_distance}
 * ({@code 0.5 * sum |p - q|} per token, mean over the tokens whose label is not -100, float32, no
 * temperature). DistillKit's dense {@code TVDLoss} is the same per token but multiplies by {@code T²};
 * we do not (as DistiLLM and TRL apply temperature without {@code T²}). Bounded by 1.
 *
 * <p>Catalogue name {@code TotalVariation}; parameters: {@code temperature} &gt; 0, default 1.0, and the
 * schedule keys of {@link TemperatureSchedule}. Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class TotalVariation extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;

    public TotalVariation(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** TVD at a constant temperature. */
    public static TotalVariation withTemperature(double temperature) {
        return new TotalVariation(TemperatureSchedule.constant(temperature));
    }

    public static TotalVariation fromParams(LossParams p) {
        return new TotalVariation(TemperatureSchedule.fromParams(p, 1.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        LogitMath.softmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        double sum = 0;
        for (int j = 0; j < c; j++) {
            double q = Math.exp(scratch[c + j]);
            double d = q - scratch[j];
            sum += Math.abs(d);
            scratch[2 * c + j] = 0.5 * q * DivergenceMath.tieSign(d);
        }
        DivergenceMath.softmaxChain(scratch, 2 * c, scratch, c, c, 1.0 / tau, grad, off);
        return 0.5 * sum;
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "TotalVariation";
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
