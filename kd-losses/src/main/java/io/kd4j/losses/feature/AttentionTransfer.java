package io.kd4j.losses.feature;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.LossParams;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attention transfer (AT): matches the normalised spatial attention maps of student and teacher,
 * <pre>
 *   a(f)_k = (1/C) Σ_c |f_{c,k}|^p          (mean over channels at each position k)
 *   q(f)   = a / max(‖a‖₂, 1e-12)             (per example, F.normalize)
 *   L      = (1/(B·K)) Σ_b Σ_k (q(f_s) − q(f_t))²
 * </pre>
 * with {@code K} the number of spatial positions ({@code h·w}, or {@code time} for rank 3).
 *
 * <p>Paper: Zagoruyko &amp; Komodakis, "Paying More Attention to Attention", ICLR 2017. Reference
 * convention: RepDistiller {@code distiller_zoo/AT.py} {@code at(f) = F.normalize(f.pow(p).mean(1)
 * .view(B, -1))}, loss {@code (at(s) − at(t)).pow(2).mean()} per layer pair (mdistiller
 * {@code at_loss} is the same); the paper's/RepDistiller's weight {@code beta = 1000} belongs to the
 * objective. {@code |f|^p} equals {@code f.pow(p)} for the reference's even {@code p = 2} and keeps
 * odd or fractional {@code p} real. Student and teacher channel counts may differ; the spatial sizes
 * must match (RepDistiller pools the larger map; here an adapter with resize does it).
 *
 * <p>Parameter: {@code p} (default 2.0, RepDistiller {@code p}), range {@code [1, 8]}. Inputs: rank
 * 3 (without mask) or 4.
 */
public final class AttentionTransfer extends FeatureLoss {
    private final double p;

    private AttentionTransfer(double p) {
        this.p = Checks.inRange("p", p, 1.0, 8.0);
    }

    /** AT with exponent {@code p} in [1, 8] (reference default 2). */
    public static AttentionTransfer withP(double p) {
        return new AttentionTransfer(p);
    }

    /** Catalogue factory: {@code p} (default 2). */
    public static AttentionTransfer fromParams(LossParams params) {
        return new AttentionTransfer(params.real("p", 2.0));
    }

    @Override
    public String name() {
        return "AttentionTransfer";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p", p);
        return m;
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireRank(3, 4).requireSameTrailing().requireNoMask();
        int n = batch.batch();
        int k = batch.trailing(true);
        int cs = batch.channels(true);
        int ct = batch.channels(false);
        double[] s = batch.student();
        double[] as = attention(s, n, cs, k);
        double[] at = attention(batch.teacher(), n, ct, k);
        double[] ns = new double[n];
        double[] qs = FeatureMath.normalizeRows(as, n, k, ns);
        double[] qt = FeatureMath.normalizeRows(at, n, k, new double[n]);
        double sum = 0;
        double[] dq = new double[n * k];
        double scale = 1.0 / ((double) n * k);
        for (int i = 0; i < n * k; i++) {
            double d = qs[i] - qt[i];
            sum += d * d;
            dq[i] = 2 * d * scale;
        }
        double[] da = FeatureMath.normalizeRowsBackward(qs, dq, ns, n, k);
        double[] g = new double[s.length];
        for (int b = 0; b < n; b++) {
            for (int c = 0; c < cs; c++) {
                for (int j = 0; j < k; j++) {
                    int idx = (b * cs + c) * k + j;
                    double v = s[idx];
                    // d|v|^p/dv = p |v|^(p-1) sign(v)
                    double dv = v == 0 ? 0 : p * Math.pow(Math.abs(v), p - 1) * Math.signum(v);
                    g[idx] = da[b * k + j] * dv / cs;
                }
            }
        }
        return new FeatureResult(sum * scale, g);
    }

    private double[] attention(double[] f, int n, int channels, int k) {
        double[] a = new double[n * k];
        for (int b = 0; b < n; b++) {
            for (int c = 0; c < channels; c++) {
                for (int j = 0; j < k; j++) {
                    double v = Math.abs(f[(b * channels + c) * k + j]);
                    a[b * k + j] += (p == 2.0 ? v * v : Math.pow(v, p)) / channels;
                }
            }
        }
        return a;
    }
}
