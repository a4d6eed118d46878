package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Similarity-preserving (SP) distillation: matches the row-normalised batch similarity matrices,
 * <pre>
 *   G = F Fᵀ   (F = features of each example flattened, [B, D]),   Ĝ = G / max(‖G_row‖₂, 1e-12)
 *   L = ‖Ĝ_t − Ĝ_s‖²_F / B²
 * </pre>
 *
 * <p>Paper: Tung &amp; Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019. Reference
 * convention: RepDistiller {@code distiller_zoo/SP.py} {@code similarity_loss}: {@code f.view(B, -1)},
 * {@code G = f fᵀ}, {@code F.normalize(G)}, {@code (G_diff²).sum() / B²}; its weight
 * ({@code beta = 3000}) belongs to the objective. Student and teacher widths may differ (only the
 * batch must agree). Masked steps of recurrent features are set to 0 before flattening. Inputs: rank
 * 2, 3 (+mask) or 4. No parameters.
 */
public final class SimilarityPreserving extends FeatureLoss {
    private static final SimilarityPreserving INSTANCE = new SimilarityPreserving();

    private SimilarityPreserving() {
    }

    /** The loss (it has no parameters). */
    public static SimilarityPreserving create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static SimilarityPreserving fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "SimilarityPreserving";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        int n = batch.batch();
        int ds = batch.exampleWidth(true);
        double[] fs = batch.examples(true);
        double[] gs = FeatureMath.gram(fs, n, ds);
        double[] gt = FeatureMath.gram(batch.examples(false), n,
                batch.exampleWidth(false));
        double[] norms = new double[n];
        double[] hs = FeatureMath.normalizeRows(gs, n, n, norms);
        double[] ht = FeatureMath.normalizeRows(gt, n, n, new double[n]);
        double scale = 1.0 / ((double) n * n);
        double sum = 0;
        double[] dh = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            double d = hs[i] - ht[i];
            sum += d * d;
            dh[i] = 2 * d * scale;
        }
        double[] dg = FeatureMath.normalizeRowsBackward(hs, dh, norms, n, n);
        double[] g = FeatureMath.gramBackward(dg, fs, n, ds);
        return new FeatureResult(sum * scale, g);
    }
}
