package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Correlation congruence (CC) in RepDistiller's form: with {@code δ_b = |s_b − t_b|} (features of
 * example b flattened, student projected to the teacher's width),
 * <pre>  L = (1/(B−1)) Σ_{b=0}^{B−2} Σ_d δ_{b,d} δ_{b+1,d}</pre>
 * i.e. the correlation between the embedding errors of consecutive examples of the batch; the
 * subgradient uses {@code sign(0) = 0}.
 *
 * <p>Paper: Peng et al., "Correlation Congruence for Knowledge Distillation", ICCV 2019. Reference
 * convention: RepDistiller {@code distiller_zoo/CC.py} {@code Correlation} (code the paper's authors
 * shared: {@code delta = |f_s − f_t|}, {@code torch.mean((delta[:-1] * delta[1:]).sum(1))}) on the
 * {@code Embed}-ded features (kd-core's dense adapter); its weight ({@code beta = 0.02}) belongs to the
 * objective. This is <em>not</em> the paper's kernel correlation-matrix MSE (torchdistill/other
 * re-implementations with {@code gamma}, {@code P_order}); the result depends on the order of the batch
 * by construction. Inputs: same shape, rank 2, 3 (+mask, masked steps set to 0) or 4; batch ≥ 2.
 * No parameters.
 */
public final class CorrelationCongruence extends FeatureLoss {
    private static final CorrelationCongruence INSTANCE = new CorrelationCongruence();

    private CorrelationCongruence() {
    }

    /** The loss (it has no parameters). */
    public static CorrelationCongruence create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static CorrelationCongruence fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "CorrelationCongruence";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireSameShape().requireBatchAtLeast(2);
        int n = batch.batch();
        int d = batch.exampleWidth(true);
        double[] s = batch.examples(true);
        double[] t = batch.examples(false);
        double[] delta = new double[s.length];
        double[] sign = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            delta[i] = Math.abs(s[i] - t[i]);
            sign[i] = Math.signum(s[i] - t[i]);
        }
        double scale = 1.0 / (n - 1);
        double sum = 0;
        double[] g = new double[s.length];
        for (int b = 0; b < n - 1; b++) {
            for (int k = 0; k < d; k++) {
                int i = b * d + k;
                int j = (b + 1) * d + k;
                sum += delta[i] * delta[j];
                g[i] += sign[i] * delta[j] * scale;
                g[j] += sign[j] * delta[i] * scale;
            }
        }
        return new FeatureResult(sum * scale, g);
    }
}
