package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * FitNets hint loss: the mean squared error between the (adapted) student features and the teacher
 * features,
 * <pre>  L = (1/n) Σ (s − t)²,   ∂L/∂s = 2 (s − t) / n</pre>
 * over the {@code n} valid elements (every element of dense and convolutional maps; the valid steps
 * × size of masked recurrent features).
 *
 * <p>Paper: Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015. Reference convention:
 * RepDistiller {@code distiller_zoo/FitNet.py} {@code HintLoss} = {@code nn.MSELoss()} (mean over all
 * elements) applied after the {@code ConvReg} regressor; mdistiller {@code FitNet} likewise
 * ({@code F.mse_loss}); its weight (RepDistiller {@code -b 100}) belongs to the objective. The
 * regressor is kd-core's adapter on the student tap. Inputs: same shape, rank 2, 3 (+mask) or 4.
 * No parameters.
 */
public final class FitNetsHint extends FeatureLoss {
    private static final FitNetsHint INSTANCE = new FitNetsHint();

    private FitNetsHint() {
    }

    /** The loss (it has no parameters). */
    public static FitNetsHint create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static FitNetsHint fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "FitNetsHint";
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
