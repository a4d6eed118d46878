package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Regression distillation: the student regresses the teacher's raw outputs (logits, or any real
 * outputs such as box coordinates or scores) with a squared error:
 * <pre>
 *   L = mean_i (1/C) sum_c (s_ic - t_ic)²
 *   dL/ds_ic = 2 (s_ic - t_ic) / (n C)
 * </pre>
 * For {@code [batch, C]} inputs this is PyTorch {@code F.mse_loss(s, t)} (mean reduction over all
 * elements); for sequences it is the mean over the valid positions of the per-position mean over
 * {@code C}. With logits as outputs it is the logit-matching loss of Ba and Caruana (2014) that
 * Hinton KD tends to at high temperature (up to the constant and the per-row mean shift).
 *
 * <p>Catalogue name {@code RegressionKd}; no parameters (there is no temperature: outputs are compared
 * as they are). Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class RegressionKd extends RowwiseLogitLoss {

    public RegressionKd() {
    }

    public static RegressionKd fromParams(LossParams p) {
        return new RegressionKd();
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double[] s = rows.student();
        double[] t = rows.teacher();
        double sum = 0;
        for (int j = 0; j < c; j++) {
            double d = s[off + j] - t[off + j];
            sum += d * d;
            grad[off + j] = 2.0 * d / c;
        }
        return sum / c;
    }

    @Override
    public String name() {
        return "RegressionKd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }

    @Override
    public String describe() {
        return "RegressionKd";
    }
}
