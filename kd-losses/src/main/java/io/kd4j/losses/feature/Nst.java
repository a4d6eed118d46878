package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Neuron selectivity transfer (NST): the squared maximum mean discrepancy, with a polynomial kernel,
 * between the sets of channel activation maps of student and teacher, per example,
 * <pre>
 *   f̂_c = f_c / max(‖f_c‖₂, 1e-12)        (each channel's map over the K positions)
 *   k(x, y) = (x·y)²
 *   L = mean_{b,c,c'} k(t̂_c, t̂_c') + mean_{b,c,c'} k(ŝ_c, ŝ_c') − 2 mean_{b,c,c'} k(ŝ_c, t̂_c')
 * </pre>
 * (each mean over the batch and the channel pairs of its two sets).
 *
 * <p>Paper: Huang &amp; Wang, "Like What You Like: Knowledge Distill via Neuron Selectivity
 * Transfer", 2017. Reference convention: RepDistiller {@code distiller_zoo/NST.py} {@code NSTLoss}
 * ({@code F.normalize(f.view(B, C, -1), dim=2)}, {@code poly_kernel = (a·b)²}, the teacher-teacher term
 * included as a constant); its weight ({@code beta = 50}) belongs to the objective. Channel counts may
 * differ; spatial sizes must match. Inputs: rank 3 (without mask) or 4. No parameters.
 */
public final class Nst extends FeatureLoss {
    private static final Nst INSTANCE = new Nst();

    private Nst() {
    }

    /** The loss (it has no parameters). */
    public static Nst create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static Nst fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "Nst";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireRank(3, 4).requireSameTrailing().requireNoMask();
        int n = batch.batch();
        int k = batch.trailing(true);
        int cs = batch.channels(true);
        int ct = batch.channels(false);
        double[] norms = new double[n * cs];
        double[] s = FeatureMath.normalizeRows(batch.student(), n * cs, k, norms);
        double[] t = FeatureMath.normalizeRows(batch.teacher(), n * ct, k, new double[n * ct]);
        double tt = 0;
        double ss = 0;
        double st = 0;
        double[] dy = new double[s.length];
        double wss = 1.0 / ((double) n * cs * cs);
        double wst = 1.0 / ((double) n * cs * ct);
        for (int b = 0; b < n; b++) {
            tt += kernelSum(t, b * ct, ct, t, b * ct, ct, k, null, 0) / ((double) n * ct * ct);
            // d/dŝ_c Σ_{c,c'} (ŝ_c·ŝ_c')² = 4 Σ_c' (ŝ_c·ŝ_c') ŝ_c'
            ss += kernelSum(s, b * cs, cs, s, b * cs, cs, k, dy, 4 * wss) * wss;
            // d/dŝ_c Σ_{c,c'} (ŝ_c·t̂_c')² = 2 Σ_c' (ŝ_c·t̂_c') t̂_c', times −2
            st += kernelSum(s, b * cs, cs, t, b * ct, ct, k, dy, -4 * wst) * wst;
        }
        double[] g = FeatureMath.normalizeRowsBackward(s, dy, norms, n * cs, k);
        return new FeatureResult(tt + ss - 2 * st, g);
    }

    /**
     * Σ over rows a of A and b of B of (a·b)²; when {@code dA} is given, adds {@code w (a·b) b} to
     * {@code dA[a]} for every pair.
     */
    private static double kernelSum(double[] x, int xRow, int xRows, double[] y, int yRow, int yRows, int k,
                                    double[] dA, double w) {
        double sum = 0;
        for (int i = 0; i < xRows; i++) {
            int xi = (xRow + i) * k;
            for (int j = 0; j < yRows; j++) {
                int yj = (yRow + j) * k;
                double dot = 0;
                for (int m = 0; m < k; m++) {
                    dot += x[xi + m] * y[yj + m];
                }
                sum += dot * dot;
                if (dA != null) {
                    for (int m = 0; m < k; m++) {
                        dA[xi + m] += w * dot * y[yj + m];
                    }
                }
            }
        }
        return sum;
    }
}
