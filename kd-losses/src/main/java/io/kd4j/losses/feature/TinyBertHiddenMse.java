package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * TinyBERT hidden-state (and embedding-layer) distillation: the mean squared error between the
 * student's hidden states, projected to the teacher's width, and the teacher's,
 * <pre>  L = (1/n) Σ (h_s W − h_t)²,   ∂L/∂(h_s W) = 2 (h_s W − h_t) / n</pre>
 *
 * <p>Paper: Jiao et al., "TinyBERT: Distilling BERT for Natural Language Understanding", Findings
 * of EMNLP 2020, Eq. 8–9. Reference convention: TinyBERT {@code general_distill.py} /
 * {@code task_distill.py}: {@code loss_mse = MSELoss()} on {@code student_reps} (after
 * {@code fit_dense}, the learnable {@code W}, here kd-core's dense adapter) and {@code teacher_reps},
 * summed over the mapped layer pairs (each pair is a term here). TinyBERT's tensors are
 * {@code [batch, seq, hidden]} and its MSE includes padded positions; kd4j's recurrent layout is
 * {@code [batch, hidden, time]}, and with a mask the mean is over the valid steps × hidden only
 * (identical to TinyBERT without a mask). Same arithmetic as {@link FitNetsHint}; a separate name
 * so that recipes and logs say which method they reproduce. Inputs: same shape, rank 2, 3 (+mask)
 * or 4. No parameters.
 */
public final class TinyBertHiddenMse extends FeatureLoss {
    private static final TinyBertHiddenMse INSTANCE = new TinyBertHiddenMse();

    private TinyBertHiddenMse() {
    }

    /** The loss (it has no parameters). */
    public static TinyBertHiddenMse create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static TinyBertHiddenMse fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "TinyBertHiddenMse";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        return FeatureMath.mse(batch);
    }
}
