package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * DIST (Huang, You, Wang, Qian and Xu, "Knowledge Distillation from A Stronger Teacher", NeurIPS
 * 2022): matches the Pearson correlation of the softened predictions instead of their values, within
 * each row (inter-class relation) and within each class across the batch (intra-class relation).
 *
 * <pre>
 *   Y^s = softmax(S / tau), Y^t = softmax(T / tau)        (rows: [n, C])
 *   rho(a, b) = (a - mean a)·(b - mean b) / (|a - mean a| |b - mean b| + 1e-8)
 *   inter = 1 - (1/n) sum_i rho(Y^s_i., Y^t_i.),   intra = 1 - (1/C) sum_j rho(Y^s_.j, Y^t_.j)
 *   L = tau² (interClassWeight · inter + intraClassWeight · intra)
 *   d rho / d a = v / D - S |v| u / (|u| D²),   u, v centred a, b;  S = u·v;  D = |u||v| + 1e-8
 *   dL/ds_i = (1/tau) Y^s_i ⊙ (G_i - Y^s_i·G_i),   G = dL/dY^s
 * </pre>
 * Batch-coupled (the intra-class term correlates each class over the rows), so it extends
 * {@link LogitLoss} with no per-row values. The intra-class term needs at least 2 valid rows; with
 * {@code intraClassWeight > 0} fewer is an error. Sequences {@code [batch, classes, time]} are
 * flattened to their valid positions, as the reference flattens {@code [N, C, H, W]} to rows. At a
 * row or column with zero spread ({@code |u| = 0}) the derivative is {@code v / 1e-8} (exact, large).
 *
 * <p><b>Reference code:</b> hunto/DIST_KD and hunto/image_classification_sota {@code DIST}
 * ({@code beta = gamma = tau = 1}; {@code cosine_similarity} with {@code eps=1e-8} added to the
 * product of the norms; {@code inter_loss = tau² inter_class_relation}, {@code intra_loss = tau²
 * intra_class_relation}). Not a divergence: at {@code s = t} the value is
 * {@code tau²(beta mean eps/(|u|²+eps) + gamma mean eps/(|u|²+eps))}, tiny but not zero.
 *
 * <p><b>Parameters</b> (catalogue name {@code Dist}): {@code interClassWeight} (beta, &gt;= 0, default
 * 1.0), {@code intraClassWeight} (gamma, &gt;= 0, default 1.0), {@code temperature} (tau, &gt; 0,
 * default 1.0, plus the {@link TemperatureSchedule} keys). <b>Inputs:</b> {@code student_logits},
 * {@code teacher_logits}. <b>Terms:</b> {@code inter} and {@code intra}, the two weighted parts of
 * the value ({@code tau² beta inter}, {@code tau² gamma intra}; they sum to it).
 */
public final class Dist extends LogitLoss {
    /** The eps of the reference's {@code cosine_similarity}. */
    public static final double EPS = 1e-8;

    private final double interClassWeight;
    private final double intraClassWeight;
    private final TemperatureSchedule temperature;

    public Dist(double interClassWeight, double intraClassWeight, TemperatureSchedule temperature) {
        this.interClassWeight = Checks.nonNegative("interClassWeight", interClassWeight);
        this.intraClassWeight = Checks.nonNegative("intraClassWeight", intraClassWeight);
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** DIST with the reference defaults (beta = gamma = tau = 1). */
    public static Dist create() {
        return new Dist(1.0, 1.0, TemperatureSchedule.constant(1.0));
    }

    public static Dist fromParams(LossParams p) {
        return new Dist(p.real("interClassWeight", 1.0), p.real("intraClassWeight", 1.0),
                TemperatureSchedule.fromParams(p, 1.0));
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        int n = rows.count();
        int c = rows.classes();
        double[] grad = new double[n * c];
        Map<String, Double> terms = new LinkedHashMap<>();
        if (n == 0) {
            terms.put("inter", 0.0);
            terms.put("intra", 0.0);
            return new RowsResult(0.0, grad, null, terms);
        }
        if (intraClassWeight > 0 && n < 2) {
            throw new IllegalArgumentException(name() + ": the intra-class term correlates each class over the rows "
                    + "and needs at least 2 valid rows, got " + n + " (set intraClassWeight=0 to use single rows)");
        }
        double tau = temperature.at(epoch);
        double[] ys = new double[n * c];
        double[] yt = new double[n * c];
        for (int i = 0; i < n; i++) {
            LogitMath.softmax(rows.student(), i * c, c, tau, ys, i * c);
            LogitMath.softmax(rows.teacher(), i * c, c, tau, yt, i * c);
        }
        double[] dY = new double[n * c];
        // inter-class: rows of length c, stride 1
        double rhoSum = 0;
        double interScale = -tau * tau * interClassWeight / n;
        for (int i = 0; i < n; i++) {
            rhoSum += pearson(ys, yt, i * c, 1, c, dY, interScale);
        }
        double inter = 1.0 - rhoSum / n;
        // intra-class: columns of length n, stride c
        double intra = 0;
        if (intraClassWeight > 0) {
            double colSum = 0;
            double intraScale = -tau * tau * intraClassWeight / c;
            for (int j = 0; j < c; j++) {
                colSum += pearson(ys, yt, j, c, n, dY, intraScale);
            }
            intra = 1.0 - colSum / c;
        }
        // chain through the softmax at temperature tau, row by row
        for (int i = 0; i < n; i++) {
            int off = i * c;
            double dot = 0;
            for (int j = 0; j < c; j++) {
                dot += ys[off + j] * dY[off + j];
            }
            for (int j = 0; j < c; j++) {
                grad[off + j] = ys[off + j] * (dY[off + j] - dot) / tau;
            }
        }
        double interTerm = tau * tau * interClassWeight * inter;
        double intraTerm = tau * tau * intraClassWeight * intra;
        terms.put("inter", interTerm);
        terms.put("intra", intraTerm);
        return new RowsResult(interTerm + intraTerm, grad, null, terms);
    }

    /**
     * Pearson correlation (reference eps) of {@code a} and {@code b} over {@code len} elements from
     * {@code start} with {@code stride}; adds {@code scale · d rho / d a} into {@code dA}.
     */
    static double pearson(double[] a, double[] b, int start, int stride, int len, double[] dA, double scale) {
        double ma = 0;
        double mb = 0;
        for (int k = 0; k < len; k++) {
            ma += a[start + k * stride];
            mb += b[start + k * stride];
        }
        ma /= len;
        mb /= len;
        double uu = 0;
        double vv = 0;
        double uv = 0;
        for (int k = 0; k < len; k++) {
            double u = a[start + k * stride] - ma;
            double v = b[start + k * stride] - mb;
            uu += u * u;
            vv += v * v;
            uv += u * v;
        }
        double nu = Math.sqrt(uu);
        double nv = Math.sqrt(vv);
        double d = nu * nv + EPS;
        double rho = uv / d;
        // d rho / d u = v / D - S |v| u / (|u| D²); u and v are centred, so the centring Jacobian is the identity
        double second = nu > 0 ? uv * nv / (nu * d * d) : 0.0;
        for (int k = 0; k < len; k++) {
            double u = a[start + k * stride] - ma;
            double v = b[start + k * stride] - mb;
            dA[start + k * stride] += scale * (v / d - second * u);
        }
        return rho;
    }

    @Override
    public String name() {
        return "Dist";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("interClassWeight", interClassWeight);
        m.put("intraClassWeight", intraClassWeight);
        m.putAll(temperature.asParams());
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
