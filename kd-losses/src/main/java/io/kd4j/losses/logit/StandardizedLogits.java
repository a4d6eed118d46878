package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Logit standardization (Sun, Ren, Li, Wang and Cao, "Logit Standardization in Knowledge
 * Distillation", CVPR 2024): a decorator that z-scores every row of the student's and the teacher's
 * logits before the wrapped loss sees them.
 *
 * <pre>
 *   z(x) = (x - mean(x)) / (eps + std(x)),   std unbiased (divisor C - 1), eps = 1e-7
 *   L(s, t) = inner(z(s), z(t))
 *   dL/ds = J_z(s)^T g,  g = d inner / d z(s):
 *   (J^T g)_j = (g_j - mean(g)) / D  -  (sum_i g_i d_i) d_j / (D² (C - 1) std),   d = x - mean(x), D = eps + std
 * </pre>
 * The Jacobian is applied analytically per row. At a constant row ({@code std = 0}) the second term
 * vanishes ({@code d = 0}) and the first is the exact derivative {@code (g - mean g) / eps}: large,
 * as in PyTorch.
 *
 * <p><b>Reference code:</b> sunshangquan/logit-standardization-KD, {@code normalize()} in
 * {@code mdistiller/distillers/KD.py} and {@code DKD.py}: {@code (logit - mean) / (1e-7 + std)} with
 * {@code torch.std} (unbiased) over the class dimension, applied to both student and teacher logits,
 * then the unchanged loss. <b>Temperature convention:</b> the loss's own temperature is applied to
 * the z-scores (the paper's "base temperature"; {@code --base-temp}, 2 in the README's CIFAR-100
 * recipes) and its {@code T²} factor is kept. The repo's recipes also raise the KD weight to 9
 * ({@code 9*SoftTargetKl(temperature=2.0, standardize=true)}) and for DKD set alpha = 1·9, beta = 8·9.
 * Those recipe values are not defaults here: {@code standardize=true} changes nothing else.
 *
 * <p><b>Catalogue:</b> the parameter {@code standardize} (default false) of {@code SoftTargetKl} and
 * {@code Dkd}. This decorator keeps the wrapped loss's name, adds {@code standardize=true} to its
 * hyperparameters, and passes its terms and per-row values through; so
 * {@code SoftTargetKl(temperature=2.0, standardize=true)} round-trips through the catalogue. A loss
 * whose factory does not read {@code standardize} can still be wrapped in code, but will not
 * round-trip. <b>Inputs:</b> those of the wrapped loss; at least 2 classes.
 */
public final class StandardizedLogits extends LogitLoss {
    /** The eps of the reference {@code normalize()}: {@code (x - mean) / (1e-7 + std)}. */
    public static final double EPS = 1e-7;

    private final LogitLoss inner;

    public StandardizedLogits(LogitLoss inner) {
        this.inner = Objects.requireNonNull(inner, "inner loss must not be null");
        if (inner instanceof StandardizedLogits) {
            throw new IllegalArgumentException("logits are already standardized by " + inner.describe());
        }
    }

    /** The wrapped loss. */
    public LogitLoss inner() {
        return inner;
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        int n = rows.count();
        int c = rows.classes();
        if (n > 0 && c < 2) {
            throw new IllegalArgumentException(name() + ": standardize needs at least 2 classes (unbiased std), got "
                    + c);
        }
        double[] sd = new double[n]; // D = eps + std of each student row
        double[] sStd = new double[n];
        double[] zs = standardize(rows.student(), n, c, sd, sStd);
        double[] zt = rows.teacher() == null ? null : standardize(rows.teacher(), n, c, new double[n], new double[n]);
        RowsResult r = inner.evaluate(rows.withLogits(zs, zt), epoch);
        double[] g = r.gradient();
        double[] out = new double[g.length];
        double[] x = rows.student();
        for (int i = 0; i < n; i++) {
            int off = i * c;
            double mean = 0;
            double gMean = 0;
            for (int j = 0; j < c; j++) {
                mean += x[off + j];
                gMean += g[off + j];
            }
            mean /= c;
            gMean /= c;
            double gd = 0;
            for (int j = 0; j < c; j++) {
                gd += g[off + j] * (x[off + j] - mean);
            }
            double d = sd[i];
            double std = sStd[i];
            double second = std > 0 ? gd / (d * d * (c - 1) * std) : 0.0;
            for (int j = 0; j < c; j++) {
                out[off + j] = (g[off + j] - gMean) / d - second * (x[off + j] - mean);
            }
        }
        return new RowsResult(r.value(), out, r.rowValues(), r.terms());
    }

    /** Z-scores each row; writes {@code eps + std} and {@code std} of every row. */
    static double[] standardize(double[] x, int n, int c, double[] denominators, double[] stds) {
        double[] z = new double[x.length];
        for (int i = 0; i < n; i++) {
            int off = i * c;
            double mean = 0;
            for (int j = 0; j < c; j++) {
                mean += x[off + j];
            }
            mean /= c;
            double ss = 0;
            for (int j = 0; j < c; j++) {
                double d = x[off + j] - mean;
                ss += d * d;
            }
            double std = Math.sqrt(ss / (c - 1));
            double den = EPS + std;
            for (int j = 0; j < c; j++) {
                z[off + j] = (x[off + j] - mean) / den;
            }
            denominators[i] = den;
            stds[i] = std;
        }
        return z;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(inner.hyperparameters());
        m.put("standardize", true);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return inner.requiredInputs();
    }
}
