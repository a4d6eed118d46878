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
        if (n > 0) {
            requireClasses(name(), c);
        }
        double[] stats = new double[3 * n]; // mean, D = eps + std, std of each student row
        double[] zs = standardize(rows.student(), n, c, stats);
        double[] zt = rows.teacher() == null ? null : standardize(rows.teacher(), n, c, new double[3 * n]);
        RowsResult r = inner.evaluate(rows.withLogits(zs, zt), epoch);
        double[] g = r.gradient();
        double[] out = new double[g.length];
        double[] x = rows.student();
        for (int i = 0; i < n; i++) {
            addGradient(g, x, i * c, c, stats, 3 * i, out);
        }
        return new RowsResult(r.value(), out, r.rowValues(), r.terms());
    }

    /** The error for fewer than 2 classes (the unbiased std needs 2), naming the loss. */
    public static void requireClasses(String loss, int classes) {
        if (classes < 2) {
            throw new IllegalArgumentException(loss + ": standardize needs at least 2 classes (unbiased std), got "
                    + classes);
        }
    }

    /** Z-scores each row; writes {@code mean, eps + std, std} of row i to {@code stats[3i..3i+3)}. */
    private static double[] standardize(double[] x, int n, int c, double[] stats) {
        double[] z = new double[x.length];
        for (int i = 0; i < n; i++) {
            zScores(x, z, i * c, c, stats, 3 * i);
        }
        return z;
    }

    /**
     * The z-scores of the row {@code x[off, off + c)} into {@code z[off, off + c)}; its {@code mean},
     * {@code D = eps + std} and {@code std} into {@code stats[at, at + 3)}. Shared with the fused kernels.
     */
    public static void zScores(double[] x, double[] z, int off, int c, double[] stats, int at) {
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
        stats[at] = mean;
        stats[at + 1] = den;
        stats[at + 2] = std;
    }

    /**
     * {@code out[off + j] += (J_z^T g)_j} for the row {@code x[off, off + c)}, {@code g} the gradient with
     * respect to its z-scores and {@code stats[at, at + 3)} what {@link #zScores} wrote for it. Shared
     * with the fused kernels.
     */
    public static void addGradient(double[] g, double[] x, int off, int c, double[] stats, int at, double[] out) {
        double mean = stats[at];
        double d = stats[at + 1];
        double std = stats[at + 2];
        double gMean = 0;
        double gd = 0;
        for (int j = 0; j < c; j++) {
            gMean += g[off + j];
            gd += g[off + j] * (x[off + j] - mean);
        }
        gMean /= c;
        double second = std > 0 ? gd / (d * d * (c - 1) * std) : 0.0;
        for (int j = 0; j < c; j++) {
            out[off + j] += (g[off + j] - gMean) / d - second * (x[off + j] - mean);
        }
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
