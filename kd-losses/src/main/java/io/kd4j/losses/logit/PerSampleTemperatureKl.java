package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Hinton KD with a per-sample temperature set from the teacher's logit scale, after the principle of
 * CIST (Luong et al., "Consistently Informative Soft-Label Temperature for Knowledge Distillation",
 * arXiv 2605.20357, 2026): the entropy of a teacher soft label is governed by the ratio of its largest
 * logit to the temperature, so holding that ratio fixed gives every sample an equally informative soft
 * label.
 * <pre>
 *   g_i = max_j t_ij − mean_j t_ij                     (shift-invariant "largest logit")
 *   τ_i = clamp(g_i / logitToTemperatureRatio, minTemperature, maxTemperature)   (no gradient)
 *   L   = mean_i τ_i² KL(softmax(t_i/τ_i) ‖ softmax(s_i/τ_i)),   dL/ds_i = τ_i (q_i − p_i) / n
 * </pre>
 * <b>Not a reproduction of CIST.</b> Only the paper's abstract and summaries were readable and no code
 * is public: CIST's exact temperature rule, its separate student temperature and its confidence /
 * difficulty reweighting are not implemented. This loss implements the stated principle (a
 * per-sample temperature tied to the max-logit ratio) with the KD conventions of {@link SoftTargetKl}
 * (forward KL, τ² per sample, batch mean). With {@code minTemperature = maxTemperature = T} it equals
 * {@code SoftTargetKl(temperature=T)} exactly.
 *
 * <p>Catalogue name {@code PerSampleTemperatureKl}; parameters: {@code logitToTemperatureRatio}
 * (4.0, &gt; 0), {@code minTemperature} (1.0, &gt; 0), {@code maxTemperature} (20.0, ≥ minTemperature).
 * Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class PerSampleTemperatureKl extends RowwiseLogitLoss {
    private final double ratio;
    private final double minTemperature;
    private final double maxTemperature;

    public PerSampleTemperatureKl(double logitToTemperatureRatio, double minTemperature, double maxTemperature) {
        this.ratio = Checks.positive("logitToTemperatureRatio", logitToTemperatureRatio);
        this.minTemperature = Checks.positive("minTemperature", minTemperature);
        this.maxTemperature = Checks.positive("maxTemperature", maxTemperature);
        if (maxTemperature < minTemperature) {
            throw new IllegalArgumentException("maxTemperature must be >= minTemperature=" + minTemperature + ", got "
                    + maxTemperature);
        }
    }

    public static PerSampleTemperatureKl fromParams(LossParams p) {
        return new PerSampleTemperatureKl(p.real("logitToTemperatureRatio", 4.0), p.real("minTemperature", 1.0),
                p.real("maxTemperature", 20.0));
    }

    /** The temperature this loss gives one teacher row. */
    public double temperatureFor(double[] teacher, int off, int classes) {
        double max = Double.NEGATIVE_INFINITY;
        double mean = 0;
        for (int j = 0; j < classes; j++) {
            max = Math.max(max, teacher[off + j]);
            mean += teacher[off + j] / classes;
        }
        return Math.min(maxTemperature, Math.max(minTemperature, (max - mean) / ratio));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperatureFor(rows.teacher(), off, c);
        LogitMath.logSoftmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        double kl = 0;
        for (int j = 0; j < c; j++) {
            double p = Math.exp(scratch[j]);
            kl += p * (scratch[j] - scratch[c + j]);
            grad[off + j] = tau * (Math.exp(scratch[c + j]) - p);
        }
        return tau * tau * kl;
    }

    @Override
    public String name() {
        return "PerSampleTemperatureKl";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logitToTemperatureRatio", ratio);
        m.put("minTemperature", minTemperature);
        m.put("maxTemperature", maxTemperature);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
