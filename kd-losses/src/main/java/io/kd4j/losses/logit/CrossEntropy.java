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
 * Hard-label cross-entropy on logits, the supervised term of most objectives:
 * <pre>
 *   L = mean_i [ -log softmax(s_i)[y_i] ]                       (labelSmoothing = 0)
 *   L = mean_i [ -sum_c q_ic log softmax(s_i)_c ],  q = (1-e) onehot(y) + e/C   (labelSmoothing = e)
 * </pre>
 * Gradient: {@code dL/ds_i = (softmax(s_i) - q_i) / n}. Matches PyTorch {@code F.cross_entropy}
 * (mean reduction, {@code label_smoothing}).
 *
 * <p>Catalogue name {@code CrossEntropy}; parameters: {@code labelSmoothing} in [0, 1), default 0.
 * Inputs: {@code student_logits}, {@code labels}.
 */
public final class CrossEntropy extends RowwiseLogitLoss {
    private final double labelSmoothing;

    public CrossEntropy(double labelSmoothing) {
        Checks.inRange("labelSmoothing", labelSmoothing, 0.0, 1.0);
        if (labelSmoothing == 1.0) {
            throw new IllegalArgumentException("labelSmoothing must be < 1, got 1.0");
        }
        this.labelSmoothing = labelSmoothing;
    }

    /** Plain cross-entropy. */
    public static CrossEntropy create() {
        return new CrossEntropy(0.0);
    }

    public static CrossEntropy fromParams(LossParams p) {
        return new CrossEntropy(p.real("labelSmoothing", 0.0));
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double[] s = rows.student();
        int y = rows.labels()[row];
        LogitMath.logSoftmax(s, off, c, 1.0, scratch, 0);
        double loss = 0;
        double uniform = labelSmoothing / c;
        for (int j = 0; j < c; j++) {
            double q = (j == y ? 1.0 - labelSmoothing : 0.0) + uniform;
            loss -= q * scratch[j];
            grad[off + j] = Math.exp(scratch[j]) - q;
        }
        return loss;
    }

    /** The label-smoothing weight {@code e} in [0, 1). */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    @Override
    public String name() {
        return "CrossEntropy";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (labelSmoothing != 0) {
            m.put("labelSmoothing", labelSmoothing);
        }
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.LABELS);
    }

    @Override
    public String describe() {
        return labelSmoothing == 0 ? "CrossEntropy" : super.describe();
    }
}
