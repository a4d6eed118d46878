package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * TinyBERT attention-based distillation: the mean squared error between the student's and the
 * teacher's attention score matrices, with masked scores (≤ −100, i.e. the additive −10000 mask of
 * BERT) replaced by 0 in both,
 * <pre>  a' = (a ≤ −100 ? 0 : a),   L = (1/n) Σ (a'_s − a'_t)²,   ∂L/∂a_s = 2 (a'_s − a'_t) / n · [a_s > −100]</pre>
 * over all {@code n} elements of {@code [batch, heads, query, key]}.
 *
 * <p>Paper: Jiao et al., "TinyBERT", Findings of EMNLP 2020, Eq. 7 (attention matrices before the
 * softmax). Reference convention: TinyBERT {@code task_distill.py}:
 * {@code torch.where(att <= -1e2, zeros, att)} on student and teacher, then {@code MSELoss()} (mean
 * over all elements, masked positions included as zeros), summed over layer pairs (each pair is a
 * term here). Inputs: same shape, rank 4 {@code [batch, heads, query, key]}; heads must match (as in
 * TinyBERT, which uses students with the teacher's head count). No parameters.
 */
public final class TinyBertAttentionMse extends FeatureLoss {
    /** TinyBERT's threshold for masked attention scores. */
    public static final double MASKED_SCORE = -100.0;
    private static final TinyBertAttentionMse INSTANCE = new TinyBertAttentionMse();

    private TinyBertAttentionMse() {
    }

    /** The loss (it has no parameters). */
    public static TinyBertAttentionMse create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static TinyBertAttentionMse fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "TinyBertAttentionMse";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireRank(4, 4).requireSameShape();
        double[] s = batch.student();
        double[] t = batch.teacher();
        int n = s.length;
        double[] g = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            boolean live = s[i] > MASKED_SCORE;
            double d = (live ? s[i] : 0) - (t[i] > MASKED_SCORE ? t[i] : 0);
            sum += d * d;
            g[i] = live ? 2 * d / n : 0;
        }
        return new FeatureResult(sum / n, g);
    }
}
