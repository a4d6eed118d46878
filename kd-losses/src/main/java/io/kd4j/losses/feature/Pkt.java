package io.kd4j.losses.feature;

import io.kd4j.losses.api.LossParams;
import java.util.Map;

/**
 * Probabilistic knowledge transfer (PKT): matches the conditional probability distributions that
 * cosine similarities induce over the batch,
 * <pre>
 *   x̂ = x / (‖x‖₂ + ε)       (ε = 1e-7; per example, features flattened)
 *   P_ij = (x̂_i·x̂_j + 1)/2,   Q = P / rowsum(P)   (student: Q^s, teacher: Q^t)
 *   L = (1/B²) Σ_ij Q^t_ij log((Q^t_ij + ε) / (Q^s_ij + ε))
 * </pre>
 *
 * <p>Paper: Passalis &amp; Tefas, "Learning Deep Representations with Probabilistic Knowledge
 * Transfer", ECCV 2018. Reference convention: RepDistiller {@code distiller_zoo/PKT.py}
 * {@code cosine_similarity_loss} with {@code eps = 0.0000001}, {@code torch.mean} over the B×B
 * matrix (diagonal included); its weight ({@code beta = 30000}) belongs to the objective. A zero
 * feature vector normalises to 0 (RepDistiller sets NaNs to 0). Widths may differ; masked steps are
 * set to 0. Inputs: rank 2, 3 (+mask) or 4. No parameters.
 */
public final class Pkt extends FeatureLoss {
    private static final double EPS = 1e-7;
    private static final Pkt INSTANCE = new Pkt();

    private Pkt() {
    }

    /** The loss (it has no parameters). */
    public static Pkt create() {
        return INSTANCE;
    }

    /** Catalogue factory (no parameters). */
    public static Pkt fromParams(LossParams p) {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "Pkt";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        int n = batch.batch();
        int ds = batch.exampleWidth(true);
        double[] xs = batch.examples(true);
        double[] normS = new double[n];
        double[] ys = normalize(xs, n, ds, normS);
        double[] qs = conditional(FeatureMath.gram(ys, n, ds), n);
        double[] qt = conditional(FeatureMath.gram(normalize(batch.examples(false), n, batch.exampleWidth(false),
                new double[n]), n, batch.exampleWidth(false)), n);
        double[] ps = FeatureMath.gram(ys, n, ds);
        double scale = 1.0 / ((double) n * n);
        double sum = 0;
        double[] dq = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            sum += qt[i] * Math.log((qt[i] + EPS) / (qs[i] + EPS));
            dq[i] = -qt[i] / (qs[i] + EPS) * scale;
        }
        // Q_ij = P_ij / S_i:  dP_ij = (dQ_ij − Σ_k dQ_ik Q_ik) / S_i;  P = (M + 1)/2: dM = dP / 2
        double[] dm = new double[n * n];
        for (int i = 0; i < n; i++) {
            double rowSum = 0;
            double dot = 0;
            for (int k = 0; k < n; k++) {
                rowSum += (ps[i * n + k] + 1) / 2;
                dot += dq[i * n + k] * qs[i * n + k];
            }
            for (int j = 0; j < n; j++) {
                dm[i * n + j] = (dq[i * n + j] - dot) / rowSum / 2;
            }
        }
        double[] dy = FeatureMath.gramBackward(dm, ys, n, ds);
        double[] g = new double[xs.length];
        for (int i = 0; i < n; i++) {
            double r = normS[i];
            double dot = 0;
            for (int k = 0; k < ds; k++) {
                dot += xs[i * ds + k] * dy[i * ds + k];
            }
            for (int k = 0; k < ds; k++) {
                double v = dy[i * ds + k] / (r + EPS);
                if (r > 0) {
                    v -= xs[i * ds + k] * dot / (r * (r + EPS) * (r + EPS));
                }
                g[i * ds + k] = v;
            }
        }
        return new FeatureResult(sum * scale, g);
    }

    private static double[] normalize(double[] x, int n, int width, double[] norms) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int k = 0; k < width; k++) {
                ss += x[i * width + k] * x[i * width + k];
            }
            norms[i] = Math.sqrt(ss);
            for (int k = 0; k < width; k++) {
                y[i * width + k] = x[i * width + k] / (norms[i] + EPS);
            }
        }
        return y;
    }

    private static double[] conditional(double[] cos, int n) {
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) {
            double rowSum = 0;
            for (int j = 0; j < n; j++) {
                q[i * n + j] = (cos[i * n + j] + 1) / 2;
                rowSum += q[i * n + j];
            }
            for (int j = 0; j < n; j++) {
                q[i * n + j] /= rowSum;
            }
        }
        return q;
    }
}
