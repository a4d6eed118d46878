package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Curriculum temperature KD (Li et al., "Curriculum Temperature for Knowledge Distillation", AAAI
 * 2023; reference code zhengli97/CTKD): Hinton KD whose single global temperature is <em>learned</em>
 * adversarially through a gradient-reversal layer, so that it maximises the distillation loss with a
 * strength λ that grows over a curriculum.
 * <pre>
 *   T(θ)  = minTemperature + temperatureRange · σ(θ)          (CTKD: t_start + t_end · sigmoid(global_T))
 *   L     = T² · mean_i KL(softmax(t_i/T) ‖ softmax(s_i/T))   (SoftTargetKl at T)
 *   dL/ds = T (q − p) / n
 *   dL/dT = 2 T K + T² dK/dT,   dK/dT = mean_i (1/T²)[ −Σ_j p_j (t_j − E_p t)(log p_j − log q_j) + E_p s − E_q s ]
 *   λ(e)  = maxReversal · (1 − cos(π · min(1, (e − 1)/reversalEpochs))) / 2    (CTKD CosineDecay 0 → −1)
 *   after each evaluation:  θ ← θ + learningRate · λ(e) · dL/dT · temperatureRange · σ(θ)(1 − σ(θ))
 * </pre>
 * The update is the reversed gradient step the student's SGD would apply to CTKD's {@code Global_T}
 * parameter (same learning rate as the student in the reference).
 *
 * <p><b>This is the catalogue's only stateful loss.</b> θ lives in the loss object and moves after
 * every evaluation (the DL4J adapter evaluates once per iteration). The learned θ is not part of the
 * formula string, so DL4J's JSON round trip (save/load, ParallelWrapper clones, Spark) restarts it
 * from {@code initialLogit}; each ParallelWrapper worker learns its own. Set {@code learningRate=0}
 * to freeze the temperature.
 *
 * <p>Catalogue name {@code Ctkd}; parameters: {@code minTemperature} (1.0, &gt; 0), {@code temperatureRange}
 * (20.0, &gt; 0), {@code initialLogit} (1.0, θ at start: T = 1 + 20σ(1) ≈ 15.62), {@code learningRate}
 * (0.05, ≥ 0, CTKD's CIFAR SGD rate), {@code reversalEpochs} (10, &gt; 0), {@code maxReversal} (1.0, ≥ 0).
 * Inputs: {@code student_logits}, {@code teacher_logits}.
 */
public final class Ctkd extends RowwiseLogitLoss {
    private final double minTemperature;
    private final double temperatureRange;
    private final double initialLogit;
    private final double learningRate;
    private final double reversalEpochs;
    private final double maxReversal;
    private final AtomicLong logitBits;
    private final ThreadLocal<double[]> tempGradient = ThreadLocal.withInitial(() -> new double[1]);

    public Ctkd(double minTemperature, double temperatureRange, double initialLogit, double learningRate,
                double reversalEpochs, double maxReversal) {
        this.minTemperature = Checks.positive("minTemperature", minTemperature);
        this.temperatureRange = Checks.positive("temperatureRange", temperatureRange);
        this.initialLogit = Checks.finite("initialLogit", initialLogit);
        this.learningRate = Checks.nonNegative("learningRate", learningRate);
        this.reversalEpochs = Checks.positive("reversalEpochs", reversalEpochs);
        this.maxReversal = Checks.nonNegative("maxReversal", maxReversal);
        this.logitBits = new AtomicLong(Double.doubleToLongBits(initialLogit));
    }

    public static Ctkd fromParams(LossParams p) {
        return new Ctkd(p.real("minTemperature", 1.0), p.real("temperatureRange", 20.0), p.real("initialLogit", 1.0),
                p.real("learningRate", 0.05), p.real("reversalEpochs", 10.0), p.real("maxReversal", 1.0));
    }

    /** The current temperature T(θ). */
    public double temperature() {
        return temperatureAt(Double.longBitsToDouble(logitBits.get()));
    }

    private double temperatureAt(double theta) {
        return minTemperature + temperatureRange * sigmoid(theta);
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /** The reversal strength λ at a 1-based epoch. */
    public double reversal(double epoch) {
        double progress = Math.min(1.0, Math.max(0.0, (epoch - 1.0) / reversalEpochs));
        return maxReversal * (1 - Math.cos(Math.PI * progress)) / 2;
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        tempGradient.get()[0] = 0;
        RowsResult r = super.evaluate(rows, epoch);
        if (learningRate > 0 && rows.count() > 0) {
            double dLdT = tempGradient.get()[0] / rows.count();
            double theta = Double.longBitsToDouble(logitBits.get());
            double s = sigmoid(theta);
            double next = theta + learningRate * reversal(epoch) * dLdT * temperatureRange * s * (1 - s);
            if (Double.isFinite(next)) {
                logitBits.set(Double.doubleToLongBits(next));
            }
        }
        return r;
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature();
        double[] t = rows.teacher();
        double[] s = rows.student();
        LogitMath.logSoftmax(t, off, c, tau, scratch, 0);
        LogitMath.logSoftmax(s, off, c, tau, scratch, c);
        double kl = 0;
        double ept = 0;
        double eps = 0;
        double eqs = 0;
        for (int j = 0; j < c; j++) {
            double p = Math.exp(scratch[j]);
            double q = Math.exp(scratch[c + j]);
            kl += p * (scratch[j] - scratch[c + j]);
            ept += p * t[off + j];
            eps += p * s[off + j];
            eqs += q * s[off + j];
            grad[off + j] = tau * (q - p);
        }
        double cov = 0;
        for (int j = 0; j < c; j++) {
            double p = Math.exp(scratch[j]);
            cov += p * (t[off + j] - ept) * (scratch[j] - scratch[c + j]);
        }
        double dKdT = (-cov + eps - eqs) / (tau * tau);
        tempGradient.get()[0] += 2 * tau * kl + tau * tau * dKdT;
        return tau * tau * kl;
    }

    @Override
    public String name() {
        return "Ctkd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("minTemperature", minTemperature);
        m.put("temperatureRange", temperatureRange);
        m.put("initialLogit", initialLogit);
        m.put("learningRate", learningRate);
        m.put("reversalEpochs", reversalEpochs);
        m.put("maxReversal", maxReversal);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
