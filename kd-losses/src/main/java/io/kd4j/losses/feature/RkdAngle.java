package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Relational KD, angle-wise: matches the cosines of the angles formed by every triplet of examples,
 * <pre>
 *   n_ij = (e_j − e_i) / max(‖e_j − e_i‖₂, 1e-12),   ψ_ijk = n_ij · n_ik
 *   L    = (1/B³) Σ_ijk smoothL1(ψ^s_ijk − ψ^t_ijk)      (Huber, beta 1)
 * </pre>
 * with {@code e} each example's features flattened ({@code n_ii = 0}).
 *
 * <p>Paper: Park et al., "Relational Knowledge Distillation", CVPR 2019. Reference convention:
 * RepDistiller {@code distiller_zoo/RKD.py} {@code RKDLoss} angle part ({@code td = e.unsqueeze(0) −
 * e.unsqueeze(1)}, {@code F.normalize(td, p=2, dim=2)}, {@code bmm}, {@code F.smooth_l1_loss} mean
 * over B³); its weight {@code w_a = 50} belongs to the objective. Cost: O(B³·D) time, O(B²·D) memory.
 * Widths may differ; masked steps are set to 0. Inputs: rank 2, 3 (+mask) or 4. No parameters.
 */
public final class RkdAngle extends FeatureLoss {
    private static final RkdAngle INSTANCE = new RkdAngle();

    private RkdAngle() {
    }

    /** The loss (it has no parameters). */
    public static RkdAngle create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static RkdAngle fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "RkdAngle";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        int n = batch.batch();
        int ds = batch.exampleWidth(true);
        int dt = batch.exampleWidth(false);
        double[] es = batch.examples(true);
        double[] et = batch.examples(false);
        double scale = 1.0 / ((double) n * n * n);
        double sum = 0;
        double[] g = new double[es.length];
        double[] normsS = new double[n];
        for (int i = 0; i < n; i++) {
            double[] us = differences(es, n, ds, i);
            double[] ys = FeatureMath.normalizeRows(us, n, ds, normsS);
            double[] yt = FeatureMath.normalizeRows(differences(et, n, dt, i), n, dt, new double[n]);
            double[] as = FeatureMath.gram(ys, n, ds);
            double[] at = FeatureMath.gram(yt, n, dt);
            double[] h = new double[n * n];
            for (int jk = 0; jk < n * n; jk++) {
                double x = as[jk] - at[jk];
                sum += FeatureMath.smoothL1(x);
                h[jk] = FeatureMath.smoothL1Grad(x) * scale;
            }
            double[] dy = FeatureMath.gramBackward(h, ys, n, ds);
            double[] du = FeatureMath.normalizeRowsBackward(ys, dy, normsS, n, ds);
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    continue; // u_ii = 0 whatever e_i is
                }
                for (int k = 0; k < ds; k++) {
                    double v = du[j * ds + k];
                    g[j * ds + k] += v;
                    g[i * ds + k] -= v;
                }
            }
        }
        return new FeatureResult(sum * scale, g);
    }

    /** Rows {@code e_j − e_i} for all j. */
    private static double[] differences(double[] e, int n, int width, int i) {
        double[] u = new double[n * width];
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < width; k++) {
                u[j * width + k] = e[j * width + k] - e[i * width + k];
            }
        }
        return u;
    }
}
