package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
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
 * Total variation distance against a sparse top-k teacher, over k + 1 bins (the top-k classes and the
 * rest; see {@link SparseTopKKl} for the inputs and {@code teacherTemperature}):
 * <pre>
 *   l = 0.5 [ Σ_{i ∈ top} |p_i - q_i| + |r - q_rest| ]                      (no T² factor)
 *   L = mean over valid rows of l
 *   dl/ds_j = (u_j - q_j Σ u) / T,  u_j = 0.5 q_j sign(q_j - p_j)   for j ∈ top
 *                                   u_j = 0.5 q_j sign(q_rest - r)  for j ∉ top
 * </pre>
 * with {@code sign(x) = 0} for {@code |x| <= 1e-12} (subgradient; the stored teacher log-probabilities
 * and the student's log-softmax are two routes to a probability, so a teacher equal to the student
 * differs from it by rounding noise, whose sign would otherwise give an O(q) gradient). When {@code k = classes} the tail bin is dropped and the loss
 * is {@link TotalVariation} given {@code lp = log_softmax(t / T)}.
 *
 * <p>Reference: DistillKit (arcee-ai) {@code distillkit.lossfuncs} {@code sparse_tvd} with
 * {@code missing=SYMMETRIC_UNIFORM} (same k + 1 bins, {@code q_rest = 1 - Σ_top q} clamped to [0, 1];
 * ours is a log-sum-exp over the other classes). Deviation: DistillKit's {@code TVDLoss} multiplies by
 * {@code T²}; we do not, like {@link TotalVariation} (DistiLLM's {@code tv_distance} has no temperature).
 * DistillKit's default {@code missing=ZERO} renormalises the teacher over its top-k and counts all
 * student mass outside it ({@code 0.5 (Σ_top |p̃ - q| + q_rest)}); that variant is not this loss.
 *
 * <p>Catalogue name {@code SparseTopKTvd}; parameters: {@code temperature} &gt; 0, default 1.0, and the
 * schedule keys of {@link TemperatureSchedule}; {@code teacherTemperature} &gt;= 0, default 0 = unset.
 * Inputs: {@code student_logits}, {@code teacher_topk_indices} with {@code teacher_topk_logprobs}.
 */
public final class SparseTopKTvd extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double teacherTemperature;

    /**
     * @param temperature the temperature schedule
     * @param teacherTemperature 0, or the temperature the stored teacher log-probabilities were taken at
     */
    public SparseTopKTvd(TemperatureSchedule temperature, double teacherTemperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.teacherTemperature = Checks.nonNegative("teacherTemperature", teacherTemperature);
    }

    /** Sparse TVD at a constant temperature, teacher log-probabilities already at that temperature. */
    public static SparseTopKTvd withTemperature(double temperature) {
        return new SparseTopKTvd(TemperatureSchedule.constant(temperature), 0.0);
    }

    public static SparseTopKTvd fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 1.0);
        return new SparseTopKTvd(t, p.real("teacherTemperature", 0.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        int k = rows.topK();
        double tau = temperature.at(epoch);
        TopKRow top = TopKRow.load(rows, row, tau, teacherTemperature, scratch);
        int[] idx = rows.topKIndices();
        int u = 2 * c;
        int t = 3 * c;
        double sum = 0;
        if (top.hasRest()) {
            double d = Math.exp(top.logStudentRest()) - Math.exp(top.logRest());
            sum += Math.abs(d);
            double g = 0.5 * DivergenceMath.tieSign(d);
            for (int j = 0; j < c; j++) {
                scratch[u + j] = g * Math.exp(scratch[j]);
            }
        }
        for (int i = 0; i < k; i++) {
            int j = idx[row * k + i];
            double q = Math.exp(scratch[j]);
            double d = q - Math.exp(scratch[t + i]);
            sum += Math.abs(d);
            scratch[u + j] = 0.5 * q * DivergenceMath.tieSign(d);
        }
        DivergenceMath.softmaxChain(scratch, u, scratch, 0, c, 1.0 / tau, grad, off);
        return 0.5 * sum;
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    /** 0 (the stored log-probabilities are at the loss's temperature), or the temperature they were taken at. */
    public double teacherTemperature() {
        return teacherTemperature;
    }

    @Override
    public String name() {
        return "SparseTopKTvd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(temperature.asParams());
        if (teacherTemperature > 0) {
            m.put("teacherTemperature", teacherTemperature);
        }
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_TOP_K);
    }
}
