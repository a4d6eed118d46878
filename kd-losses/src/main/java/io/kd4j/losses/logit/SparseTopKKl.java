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
 * Forward KL against a sparse teacher that keeps only its top-k classes per row (offline distillation
 * of large vocabularies, as DistillKit stores teacher outputs), over k + 1 bins: the top-k classes and
 * the rest. With {@code lp_i} the given teacher log-probabilities of classes {@code i ∈ top},
 * {@code p_i = exp(lp_i)}, the teacher's remaining mass {@code r = 1 - Σ_top p_i} and
 * {@code q = softmax(s / T)}, {@code q_rest = Σ_{j ∉ top} q_j}:
 * <pre>
 *   l    = T² [ Σ_{i ∈ top} p_i (lp_i - log q_i) + r (log r - log q_rest) ]
 *   L    = mean over valid rows of l
 *   dl/ds_j = T (q_j - p_j)                  for j ∈ top
 *   dl/ds_j = T (q_j - r q_j / q_rest)       for j ∉ top      (when Σ p + r = 1)
 * </pre>
 * {@code log q_rest} is a log-sum-exp over the classes outside the top-k and {@code log r = log(1 -
 * exp(logsumexp(lp)))} is computed with {@code expm1}/{@code log1p}, so that neither {@code r → 0}
 * nor {@code q_rest → 0} produces {@code 0 · log 0} (a zero mass contributes 0). When
 * {@code k = classes} the tail bin is dropped, and the loss is exactly {@link SoftTargetKl} given
 * {@code lp = log_softmax(t / T)}. Teacher masses summing above 1 (allowed up to 1e-4 by the input check)
 * give {@code r = 0}; nothing is renormalised.
 *
 * <p><b>Temperature of the stored teacher</b>: by default ({@code teacherTemperature} unset) the given
 * log-probabilities are taken to be the teacher's distribution <em>at the loss's temperature</em>
 * {@code T} and used as they are (only the student is divided by {@code T}). With
 * {@code teacherTemperature = T_g > 0} they are the teacher at temperature {@code T_g} and are re-tempered
 * to {@code T} over the k + 1 bins, {@code p_i ∝ p_i^(T_g/T)}, {@code r ∝ r^(T_g/T)}, as DistillKit's
 * {@code get_target_logprobs} in {@code SYMMETRIC_UNIFORM} mode (exact for the top-k ratios, an
 * approximation for the tail, which is one bin); this is what a temperature schedule needs.
 *
 * <p>Reference: DistillKit (arcee-ai) {@code distillkit/lossfuncs/kl.py} {@code sparse_kl_div} with
 * {@code missing=SYMMETRIC_UNIFORM}: {@code Σ_top p (lp - log q) + r (log r - log q_rest)}, summed over
 * tokens, times {@code T²}, divided by the number of valid tokens; ours is the same except that
 * DistillKit clamps {@code Σ p} to {@code 1 - 1e-6} and drops the tail term when {@code r ≤ 1e-6}
 * (eps 1e-6), where we are exact. DistillKit's default {@code missing=ZERO} instead renormalises the
 * teacher over its top-k and ignores the tail entirely (student mass outside the top-k unpenalised);
 * that variant is not this loss.
 *
 * <p>Catalogue name {@code SparseTopKKl}; parameters: {@code temperature} &gt; 0, default 1.0 (DistillKit's
 * default KL temperature) and the schedule keys of {@link TemperatureSchedule}; {@code teacherTemperature}
 * &gt;= 0, default 0 = unset (see above). Inputs: {@code student_logits}, {@code teacher_topk_indices}
 * with {@code teacher_topk_logprobs} ({@link io.kd4j.losses.api.TopKTeacher}).
 */
public final class SparseTopKKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double teacherTemperature;

    /**
     * @param temperature the temperature schedule
     * @param teacherTemperature 0, or the temperature the stored teacher log-probabilities were taken at
     */
    public SparseTopKKl(TemperatureSchedule temperature, double teacherTemperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.teacherTemperature = Checks.nonNegative("teacherTemperature", teacherTemperature);
    }

    /** Sparse KL at a constant temperature, teacher log-probabilities already at that temperature. */
    public static SparseTopKKl withTemperature(double temperature) {
        return new SparseTopKKl(TemperatureSchedule.constant(temperature), 0.0);
    }

    public static SparseTopKKl fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 1.0);
        return new SparseTopKKl(t, p.real("teacherTemperature", 0.0));
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
        double value = 0;
        double r = Math.exp(top.logRest());
        boolean tail = top.hasRest() && r > 0;
        for (int j = 0; j < c; j++) {
            scratch[u + j] = tail && scratch[c + j] == 0 ? -r * Math.exp(scratch[j] - top.logStudentRest()) : 0.0;
        }
        for (int i = 0; i < k; i++) {
            int j = idx[row * k + i];
            double lp = scratch[t + i];
            double p = Math.exp(lp);
            value += DivergenceMath.weighted(p, lp, scratch[j]);
            scratch[u + j] = -p;
        }
        if (tail) {
            value += r * (top.logRest() - top.logStudentRest());
        }
        DivergenceMath.softmaxChain(scratch, u, scratch, 0, c, tau, grad, off);
        return tau * tau * value;
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
        return "SparseTopKKl";
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
