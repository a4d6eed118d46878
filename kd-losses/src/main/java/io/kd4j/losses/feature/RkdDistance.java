package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Relational KD, distance-wise: matches the mean-normalised pairwise Euclidean distances of the
 * examples in a batch,
 * <pre>
 *   d_ij = sqrt(max(‖e_i‖² + ‖e_j‖² − 2 e_i·e_j, 1e-12)) for i ≠ j,  d_ii = 0
 *   μ    = mean of d_ij over the pairs with d_ij &gt; 0
 *   L    = (1/B²) Σ_ij smoothL1(d^s_ij/μ_s − d^t_ij/μ_t)      (Huber, beta 1)
 * </pre>
 * with {@code e} each example's features flattened; the gradient includes the dependence of
 * {@code μ_s} on the student.
 *
 * <p>Paper: Park et al., "Relational Knowledge Distillation", CVPR 2019. Reference convention:
 * RepDistiller {@code distiller_zoo/RKD.py} {@code RKDLoss} distance part ({@code pdist(e,
 * squared=False)} with {@code eps = 1e-12} clamp, {@code F.smooth_l1_loss}, mean over all B² entries
 * including the zero diagonal); its weight {@code w_d = 25} belongs to the objective. Widths may differ;
 * the batch must hold at least 2 examples. Masked steps are set to 0 before flattening. Inputs: rank
 * 2, 3 (+mask) or 4. No parameters.
 */
public final class RkdDistance extends FeatureLoss {
    private static final double CLAMP = 1e-12;
    private static final RkdDistance INSTANCE = new RkdDistance();

    private RkdDistance() {
    }

    /** The loss (it has no parameters). */
    public static RkdDistance create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static RkdDistance fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "RkdDistance";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        batch.requireBatchAtLeast(2);
        int n = batch.batch();
        int ds = batch.exampleWidth(true);
        double[] es = batch.examples(true);
        double[] sq = new double[n * n];
        double[] dS = distances(es, n, ds, sq);
        double[] dT = distances(batch.examples(false), n, batch.exampleWidth(false), new double[n * n]);
        double muS = positiveMean(dS);
        double muT = positiveMean(dT);
        double scale = 1.0 / ((double) n * n);
        double sum = 0;
        double[] h = new double[n * n];
        double dMu = 0;
        for (int i = 0; i < n * n; i++) {
            double x = dS[i] / muS - dT[i] / muT;
            sum += FeatureMath.smoothL1(x);
            h[i] = FeatureMath.smoothL1Grad(x) * scale;
            dMu -= h[i] * dS[i] / (muS * muS);
        }
        int positives = 0;
        for (double d : dS) {
            positives += d > 0 ? 1 : 0;
        }
        double[] g = new double[es.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int ij = i * n + j;
                if (i == j || sq[ij] <= CLAMP) {
                    continue; // diagonal and clamped pairs: d does not depend on e
                }
                double dd = h[ij] / muS + dMu / positives;
                double dsq = dd / (2 * dS[ij]);
                for (int k = 0; k < ds; k++) {
                    double diff = es[i * ds + k] - es[j * ds + k];
                    g[i * ds + k] += 2 * dsq * diff;
                    g[j * ds + k] -= 2 * dsq * diff;
                }
            }
        }
        return new FeatureResult(sum * scale, g);
    }

    /** Pairwise distances as RepDistiller's {@code pdist(squared=False)}; squared (unclamped) into {@code sq}. */
    private static double[] distances(double[] e, int n, int width, double[] sq) {
        double[] g = FeatureMath.gram(e, n, width);
        double[] d = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    double s2 = g[i * n + i] + g[j * n + j] - 2 * g[i * n + j];
                    sq[i * n + j] = s2;
                    d[i * n + j] = Math.sqrt(Math.max(s2, CLAMP));
                }
            }
        }
        return d;
    }

    private static double positiveMean(double[] d) {
        double sum = 0;
        int count = 0;
        for (double v : d) {
            if (v > 0) {
                sum += v;
                count++;
            }
        }
        return sum / count;
    }
}
