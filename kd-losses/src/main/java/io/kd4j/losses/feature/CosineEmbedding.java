package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * DistilBERT's cosine-embedding loss on hidden states: one minus the cosine similarity of the
 * student's and the teacher's hidden vector at each valid step, averaged,
 * <pre>
 *   cos = s·t / sqrt((‖s‖² + ε)(‖t‖² + ε)),  ε = 1e-12
 *   L = (1/n) Σ_steps (1 − cos),   ∂L/∂s = −(t / sqrt((‖s‖²+ε)(‖t‖²+ε)) − cos · s / (‖s‖² + ε)) / n
 * </pre>
 *
 * <p>Paper: Sanh et al., "DistilBERT, a distilled version of BERT", 2019 (the "cosine embedding
 * loss" aligning hidden-state directions). Reference convention: HuggingFace
 * {@code examples/research_projects/distillation/distiller.py}: {@code nn.CosineEmbeddingLoss(
 * reduction="mean")} with target 1 on the last hidden states selected by the attention mask
 * ({@code masked_select}, one row per valid token), weight {@code alpha_cos} in the objective; PyTorch's
 * {@code cosine_embedding_loss} adds {@code EPSILON = 1e-12} to each squared norm. Inputs: rank 2
 * {@code [batch, hidden]} (one row per example) or rank 3 {@code [batch, hidden, time]} (+mask, one row
 * per valid step); same shape. No parameters.
 */
public final class CosineEmbedding extends FeatureLoss {
    private static final double EPS = 1e-12;
    private static final CosineEmbedding INSTANCE = new CosineEmbedding();

    private CosineEmbedding() {
    }

    /** The loss (it has no parameters). */
    public static CosineEmbedding create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static CosineEmbedding fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "CosineEmbedding";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireRank(2, 3).requireSameShape();
        int d = batch.channels(true);
        double[] s = batch.steps(true);
        double[] t = batch.steps(false);
        int rows = batch.stepCount();
        double[] g = new double[s.length];
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            double st = 0;
            double ss = EPS;
            double tt = EPS;
            for (int k = 0; k < d; k++) {
                double a = s[r * d + k];
                double b = t[r * d + k];
                st += a * b;
                ss += a * a;
                tt += b * b;
            }
            double den = Math.sqrt(ss * tt);
            double cos = st / den;
            sum += 1 - cos;
            for (int k = 0; k < d; k++) {
                g[r * d + k] = -(t[r * d + k] / den - cos * s[r * d + k] / ss) / rows;
            }
        }
        return new FeatureResult(rows == 0 ? 0 : sum / rows, batch.unsteps(g));
    }
}
