package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Normalized KD (Yang, Zeng, Li, Zhang, Yuan and Li, "From Knowledge Distillation to
 * Self-Knowledge Distillation: A Unified Approach with Normalized Loss and Customized Soft Labels",
 * ICCV 2023): a cross-entropy on the target class weighted by the teacher's (detached) target
 * probability, plus a temperature-scaled cross-entropy between the teacher's and the student's
 * distributions renormalized over the non-target classes.
 *
 * <pre>
 *   p = softmax(t), q = softmax(s)                                     (T = 1 for the target part)
 *   p^ = softmax(t_{j != y} / T), q^ = softmax(s_{j != y} / T)         (non-target classes only)
 *   L = mean_i [ -p_y log q_y  -  gamma T² sum_{j != y} p^_j log q^_j ]
 *   dL/ds_j = ( p_y (q_j - [j = y])  +  gamma T (q^_j - p^_j) [j != y] ) / n
 * </pre>
 * It is a cross-entropy, not a divergence: at {@code s = t} the value is
 * {@code -p_y log p_y + gamma T² H(p^)}, the non-target gradient is zero and the target gradient
 * {@code p_y (p - e_y)} is not.
 *
 * <p><b>Reference code:</b> yzd-v/cls_KD {@code mmcls/distillation/losses/nkd.py} {@code NKDLoss}:
 * {@code loss_t = -(t_t * s_t).mean()} with {@code t_t} detached, {@code loss_non = -gamma T²
 * mean(sum(T_i * S_i))}, batch mean, no eps, {@code T²} on the non-target part only. An earlier
 * revision of that file built the non-target mask with {@code scatter_(1, label, 1)} (keeping the
 * target class); the current one uses {@code scatter_(1, label, 0)}, which this class follows, as
 * the paper does. The non-target softmax is computed over the non-target logits directly (stable).
 *
 * <p><b>Parameters</b> (catalogue name {@code Nkd}; defaults of {@code NKDLoss}): {@code temperature}
 * (T, &gt; 0, default 1.0, plus the {@link TemperatureSchedule} keys), {@code nonTargetWeight}
 * (gamma, &gt;= 0, default 1.5). <b>Inputs:</b> {@code student_logits}, {@code teacher_logits},
 * {@code labels}; at least 2 classes. <b>Terms:</b> {@code target} and {@code nonTarget} (the two
 * parts of the value, {@code nonTarget} including {@code gamma T²}; they sum to it).
 */
public final class Nkd extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;
    private final double nonTargetWeight;

    /**
     * @param temperature T of the non-target part
     * @param nonTargetWeight gamma, &gt;= 0
     */
    public Nkd(TemperatureSchedule temperature, double nonTargetWeight) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.nonTargetWeight = Checks.nonNegative("nonTargetWeight", nonTargetWeight);
    }

    /** NKD at a constant temperature. */
    public static Nkd of(double temperature, double nonTargetWeight) {
        return new Nkd(TemperatureSchedule.constant(temperature), nonTargetWeight);
    }

    public static Nkd fromParams(LossParams p) {
        return new Nkd(TemperatureSchedule.fromParams(p, 1.0), p.real("nonTargetWeight", 1.5));
    }

    @Override
    protected String[] termNames() {
        return new String[] {"target", "nonTarget"};
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        if (c < 2) {
            throw new IllegalArgumentException(name() + ": needs at least 2 classes (a target and a non-target), got "
                    + c);
        }
        int y = rows.labels()[row];
        double tau = temperature.at(epoch);
        double[] s = rows.student();
        double[] t = rows.teacher();
        LogitMath.logSoftmax(s, off, c, 1.0, scratch, 0);
        double pY = Math.exp(t[off + y] - LogitMath.logSumExp(t, off, c, 1.0)); // detached teacher target prob
        double targetLoss = -pY * scratch[y];
        double lseNonS = Dkd.logSumExpExcept(s, off, c, tau, y);
        double lseNonT = Dkd.logSumExpExcept(t, off, c, tau, y);
        double cross = 0;
        for (int j = 0; j < c; j++) {
            double g = pY * (Math.exp(scratch[j]) - (j == y ? 1.0 : 0.0));
            if (j != y) {
                double logPHat = t[off + j] / tau - lseNonT;
                double logQHat = s[off + j] / tau - lseNonS;
                double pHat = Math.exp(logPHat);
                cross -= pHat * logQHat;
                g += nonTargetWeight * tau * (Math.exp(logQHat) - pHat);
            }
            grad[off + j] = g;
        }
        double nonTargetLoss = nonTargetWeight * tau * tau * cross;
        terms[0] += targetLoss;
        terms[1] += nonTargetLoss;
        return targetLoss + nonTargetLoss;
    }

    @Override
    public String name() {
        return "Nkd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(temperature.asParams());
        m.put("nonTargetWeight", nonTargetWeight);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS, InputKind.LABELS);
    }
}
