package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
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
 * Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu and Liang, "Decoupled Knowledge
 * Distillation", CVPR 2022): the KD loss split into a target-class term (TCKD, a binary KL between
 * "target" and "all other classes") and a non-target term (NCKD, a KL between the distributions
 * renormalized over the non-target classes), weighted separately.
 *
 * <pre>
 *   p = softmax(t / T), q = softmax(s / T), y = label
 *   b^t = [p_y, 1 - p_y],   b^s = [q_y, 1 - q_y]                    (binary target/non-target)
 *   p^_j = p_j / (1 - p_y), q^_j = q_j / (1 - q_y)   for j != y      (non-target softmax)
 *   TCKD = KL(b^t || b^s),  NCKD = KL(p^ || q^)
 *   L = w(epoch) · T² · mean_i [ targetWeight · TCKD_i + nonTargetWeight · NCKD_i ]
 *   w(epoch) = min(epoch / warmupEpochs, 1)
 *   dL/ds_iy = w T (targetWeight (q_y - b^t_1)) / n
 *   dL/ds_ij = w T (targetWeight q^_j (b^s_2 - b^t_2) + nonTargetWeight (q^_j - p^_j)) / n   (j != y)
 * </pre>
 *
 * <p><b>Reference code:</b> mdistiller {@code mdistiller/distillers/DKD.py}, {@code dkd_loss}:
 * forward KL (teacher || student) in both terms, {@code kl_div(size_average=False) / batch}, i.e.
 * sum over classes and batch mean, times {@code T²}; warm-up factor {@code min(epoch / WARMUP, 1)}
 * with mdistiller's 1-based epoch ({@link io.kd4j.losses.api.LossInput#epoch()}). No eps.
 *
 * <p><b>Deviation (numerics only):</b> mdistiller forms {@code b^s} by summing softmax probabilities
 * and taking {@code torch.log}, and forms the non-target softmax by subtracting {@code 1000} from the
 * target logit. Both are exact on ordinary logits and this class matches them there; but when a
 * probability underflows (e.g. logits of ±1e4) the log gives {@code -inf} and the loss {@code inf}
 * or {@code NaN}, and when {@code (s_y - s_j) / T > ~1000} the {@code -1000} no longer removes the
 * target class. Here {@code log b} is computed in log space ({@code log(1 - p_y)} as the log-sum-exp
 * of the non-target logits minus that of all logits) and the non-target softmax excludes the target
 * class exactly, so values and gradients stay finite and exact.
 *
 * <p><b>Parameters</b> (catalogue name {@code Dkd}; defaults of mdistiller's CIFAR-100 DKD config):
 * {@code targetWeight} (alpha, &gt;= 0, default 1.0), {@code nonTargetWeight} (beta, &gt;= 0, default
 * 8.0), {@code temperature} (T, &gt; 0, default 4.0, plus the {@link TemperatureSchedule} keys),
 * {@code warmupEpochs} (&gt; 0, default 20), {@code standardize} (default false: when true, logits are
 * z-scored first by {@link StandardizedLogits}, as in Sun et al., CVPR 2024).
 *
 * <p><b>Inputs:</b> {@code student_logits}, {@code teacher_logits}, {@code labels}; at least 2
 * classes. <b>Terms:</b> {@code tckd} and {@code nckd}, the two weighted parts of the value
 * ({@code w T² targetWeight mean TCKD} and {@code w T² nonTargetWeight mean NCKD}; they sum to it).
 */
public final class Dkd extends RowwiseLogitLoss {
    private final double targetWeight;
    private final double nonTargetWeight;
    private final TemperatureSchedule temperature;
    private final double warmupEpochs;

    /**
     * @param targetWeight alpha, weight of TCKD, &gt;= 0
     * @param nonTargetWeight beta, weight of NCKD, &gt;= 0
     * @param temperature T
     * @param warmupEpochs epochs of the linear warm-up, &gt; 0
     */
    public Dkd(double targetWeight, double nonTargetWeight, TemperatureSchedule temperature, double warmupEpochs) {
        this.targetWeight = Checks.nonNegative("targetWeight", targetWeight);
        this.nonTargetWeight = Checks.nonNegative("nonTargetWeight", nonTargetWeight);
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        this.warmupEpochs = Checks.positive("warmupEpochs", warmupEpochs);
    }

    /** DKD with mdistiller's CIFAR-100 defaults: alpha 1, beta 8, T 4, 20 warm-up epochs. */
    public static Dkd create() {
        return new Dkd(1.0, 8.0, TemperatureSchedule.constant(4.0), 20.0);
    }

    /** Reads the catalogue parameters; {@code standardize=true} wraps the loss in {@link StandardizedLogits}. */
    public static LogitLoss fromParams(LossParams p) {
        Dkd dkd = new Dkd(p.real("targetWeight", 1.0), p.real("nonTargetWeight", 8.0),
                TemperatureSchedule.fromParams(p, 4.0), p.real("warmupEpochs", 20.0));
        return p.flag("standardize", false) ? new StandardizedLogits(dkd) : dkd;
    }

    /** alpha, the weight of TCKD (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public double targetWeight() {
        return targetWeight;
    }

    /** beta, the weight of NCKD. */
    public double nonTargetWeight() {
        return nonTargetWeight;
    }

    /** The temperature schedule. */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    /** The warm-up factor {@code min(epoch / warmupEpochs, 1)} at a 1-based epoch. */
    public double warmupFactor(double epoch) {
        return Math.min(epoch / warmupEpochs, 1.0);
    }

    @Override
    protected String[] termNames() {
        return new String[] {"tckd", "nckd"};
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
        // scratch[0, c): log q (student, all classes); scratch[c, 2c): log q^ (student, non-target)
        // scratch[2c, 3c): log p^ (teacher, non-target)
        double lseS = LogitMath.logSumExp(s, off, c, tau);
        double lseT = LogitMath.logSumExp(t, off, c, tau);
        double lseNonS = logSumExpExcept(s, off, c, tau, y);
        double lseNonT = logSumExpExcept(t, off, c, tau, y);
        // binary distributions in log space: log b_1 = z_y/T - lse, log b_2 = lseNon - lse
        double logBs1 = s[off + y] / tau - lseS;
        double logBs2 = lseNonS - lseS;
        double logBt1 = t[off + y] / tau - lseT;
        double logBt2 = lseNonT - lseT;
        double bt1 = Math.exp(logBt1);
        double bt2 = Math.exp(logBt2);
        double bs2 = Math.exp(logBs2);
        double tckd = klTerm(bt1, logBt1, logBs1) + klTerm(bt2, logBt2, logBs2);
        double nckd = 0;
        for (int j = 0; j < c; j++) {
            if (j == y) {
                continue;
            }
            double logPHat = t[off + j] / tau - lseNonT;
            double logQHat = s[off + j] / tau - lseNonS;
            nckd += klTerm(Math.exp(logPHat), logPHat, logQHat);
            scratch[j] = Math.exp(logQHat) - Math.exp(logPHat);
            scratch[c + j] = Math.exp(logQHat);
        }
        double w = warmupFactor(epoch);
        double scale = w * tau * tau;
        double gScale = w * tau; // T² · (1/T) from d(z/T)/dz
        for (int j = 0; j < c; j++) {
            if (j == y) {
                // d TCKD / d(s_y/T) = q_y - b^t_1 = b^s_1 - b^t_1
                grad[off + j] = gScale * targetWeight * (Math.exp(logBs1) - bt1);
            } else {
                double qHat = scratch[c + j];
                grad[off + j] = gScale * (targetWeight * qHat * (bs2 - bt2) + nonTargetWeight * scratch[j]);
            }
        }
        double tTerm = scale * targetWeight * tckd;
        double nTerm = scale * nonTargetWeight * nckd;
        terms[0] += tTerm;
        terms[1] += nTerm;
        return tTerm + nTerm;
    }

    /** {@code p (log p - log q)} with the limit 0 at {@code p = 0}. */
    static double klTerm(double p, double logP, double logQ) {
        return p > 0 ? p * (logP - logQ) : 0.0;
    }

    /** {@code log sum_{j != skip} exp(x[off + j] / T)}; the row must have another class than {@code skip}. */
    static double logSumExpExcept(double[] x, int off, int n, double temperature, int skip) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (j != skip) {
                max = Math.max(max, x[off + j] / temperature);
            }
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            if (j != skip) {
                sum += Math.exp(x[off + j] / temperature - max);
            }
        }
        return max + Math.log(sum);
    }

    @Override
    public String name() {
        return "Dkd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("targetWeight", targetWeight);
        m.put("nonTargetWeight", nonTargetWeight);
        m.putAll(temperature.asParams());
        m.put("warmupEpochs", warmupEpochs);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS, InputKind.LABELS);
    }
}
