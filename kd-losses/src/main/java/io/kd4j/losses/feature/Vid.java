package io.kd4j.losses.feature;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.LossParams;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Variational information distillation (VID): the negative log-likelihood of the teacher's features
 * under a Gaussian whose mean the student predicts and whose variance is learned,
 * <pre>
 *   σ² = softplus(ρ) + ε,   L = (1/n) Σ ½ ((μ − t)² / σ² + log σ²)
 * </pre>
 * over the {@code n} valid elements of the teacher's shape.
 *
 * <p><b>Input layout.</b> The student input carries both predictions stacked on the channel
 * dimension: {@code [batch, 2C, ...]} = {@code [μ | ρ]} for a teacher of {@code C} channels, so that
 * both are ordinary trainable outputs of the adapter and DL4J trains them. RepDistiller's variance is
 * one learned {@code log_scale} per channel: an adapter whose {@code ρ} half has zero weights and a
 * per-channel bias (initialised to {@code softplus⁻¹(5.0 − ε)}, RepDistiller's {@code init_pred_var})
 * reproduces it exactly; learned weights make the variance input-dependent (heteroscedastic).
 *
 * <p>Paper: Ahn et al., "Variational Information Distillation for Knowledge Transfer", CVPR 2019.
 * Reference convention: RepDistiller {@code distiller_zoo/VID.py} {@code VIDLoss}
 * ({@code pred_var = log(1 + exp(log_scale)) + eps}, {@code neg_log_prob = 0.5 ((pred_mean −
 * target)² / pred_var + log(pred_var))}, {@code torch.mean}; the regressor is kd-core's adapter); the
 * weight ({@code beta = 1} per layer) belongs to the objective. Gradients: {@code ∂L/∂μ = (μ − t)/(σ² n)},
 * {@code ∂L/∂ρ = ½ (1/σ² − (μ − t)²/σ⁴) sigmoid(ρ) / n}.
 *
 * <p>Parameter: {@code varianceEpsilon} (RepDistiller {@code eps}) default 1e-5, {@code > 0}. Inputs:
 * rank 2, 3 (+mask) or 4; student channels = 2 × teacher channels, other sizes equal.
 */
public final class Vid extends FeatureLoss {
    private final double varianceEpsilon;

    private Vid(double varianceEpsilon) {
        this.varianceEpsilon = Checks.positive("varianceEpsilon", varianceEpsilon);
    }

    /** VID with variance floor {@code varianceEpsilon > 0} (reference 1e-5). */
    public static Vid withVarianceEpsilon(double varianceEpsilon) {
        return new Vid(varianceEpsilon);
    }

    /** Catalogue factory: {@code varianceEpsilon} (default 1e-5). */
    public static Vid fromParams(LossParams p) {
        return new Vid(p.real("varianceEpsilon", 1e-5));
    }

    /** The pre-softplus value {@code ρ} giving variance {@code v}: {@code log(exp(v − ε) − 1)}. */
    public double rawForVariance(double v) {
        Checks.positive("variance - varianceEpsilon", v - varianceEpsilon);
        return Math.log(Math.expm1(v - varianceEpsilon));
    }

    @Override
    public String name() {
        return "Vid";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("varianceEpsilon", varianceEpsilon);
        return m;
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireSameTrailing();
        int c = batch.channels(false);
        if (batch.channels(true) != 2 * c) {
            throw new IllegalArgumentException(name() + ": student_features must have 2 x the teacher's channels "
                    + "[mean | pre-softplus variance] = " + 2 * c + ", got " + batch.channels(true));
        }
        boolean steps = batch.rank() == 3;
        double[] s = steps ? batch.steps(true) : batch.student();
        double[] t = steps ? batch.steps(false) : batch.teacher();
        // rows: rank 3 step rows [steps, 2C] (k = 1); rank 2 [B, 2C] (k = 1); rank 4 [B, 2C, K]
        int k = batch.rank() == 4 ? batch.trailing(true) : 1;
        int rows = t.length / (c * k);
        int n = t.length;
        double[] g = new double[s.length];
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < k; j++) {
                    int mu = (r * 2 * c + ch) * k + j;
                    int rho = (r * 2 * c + c + ch) * k + j;
                    int ti = (r * c + ch) * k + j;
                    double raw = s[rho];
                    double var = softplus(raw) + varianceEpsilon;
                    double d = s[mu] - t[ti];
                    sum += 0.5 * (d * d / var + Math.log(var));
                    g[mu] = d / var / n;
                    g[rho] = 0.5 * (1 / var - d * d / (var * var)) * sigmoid(raw) / n;
                }
            }
        }
        return new FeatureResult(n == 0 ? 0 : sum / n, steps ? batch.unsteps(g) : g);
    }

    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
