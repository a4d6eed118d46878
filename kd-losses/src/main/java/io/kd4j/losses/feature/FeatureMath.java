package io.kd4j.losses.feature;

/** Shared kernels of the feature losses, in double precision over flat row-major arrays. */
final class FeatureMath {
    /** {@code F.normalize}'s default eps: {@code x / max(||x||, eps)}. */
    static final double NORMALIZE_EPS = 1e-12;

    private FeatureMath() {
    }

    /**
     * Mean squared error over the valid elements (all elements of rank 2 and 4; valid steps × size of
     * rank 3), as {@code nn.MSELoss()}; gradient {@code 2 (s - t) / n}. Requires the same shape.
     */
    static FeatureResult mse(FeatureBatch b) {
        b.requireSameShape();
        boolean steps = b.rank() == 3;
        double[] s = steps ? b.steps(true) : b.student();
        double[] t = steps ? b.steps(false) : b.teacher();
        double[] g = new double[s.length];
        if (s.length == 0) {
            return new FeatureResult(0, steps ? b.unsteps(g) : g);
        }
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            double d = s[i] - t[i];
            sum += d * d;
            g[i] = 2 * d / s.length;
        }
        return new FeatureResult(sum / s.length, steps ? b.unsteps(g) : g);
    }

    /**
     * Row-wise L2 normalisation as {@code F.normalize(x, dim=1)}: {@code y = x / max(||x||, eps)}.
     * Returns the normalised rows and writes each row's norm into {@code norms}.
     */
    static double[] normalizeRows(double[] x, int rows, int width, double[] norms) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int j = 0; j < width; j++) {
                double v = x[r * width + j];
                ss += v * v;
            }
            double n = Math.sqrt(ss);
            norms[r] = n;
            double d = Math.max(n, NORMALIZE_EPS);
            for (int j = 0; j < width; j++) {
                y[r * width + j] = x[r * width + j] / d;
            }
        }
        return y;
    }

    /**
     * Back-propagates {@code dy} through {@link #normalizeRows}: {@code dx = (dy - y (y·dy)) / ||x||}
     * where {@code ||x|| > eps}, {@code dx = dy / eps} where the norm is clamped.
     */
    static double[] normalizeRowsBackward(double[] y, double[] dy, double[] norms, int rows, int width) {
        double[] dx = new double[y.length];
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            if (norms[r] > NORMALIZE_EPS) {
                double dot = 0;
                for (int j = 0; j < width; j++) {
                    dot += y[o + j] * dy[o + j];
                }
                for (int j = 0; j < width; j++) {
                    dx[o + j] = (dy[o + j] - y[o + j] * dot) / norms[r];
                }
            } else {
                for (int j = 0; j < width; j++) {
                    dx[o + j] = dy[o + j] / NORMALIZE_EPS;
                }
            }
        }
        return dx;
    }

    /** {@code F.smooth_l1_loss} element with beta 1: {@code 0.5 x²} for {@code |x| < 1}, else {@code |x| - 0.5}. */
    static double smoothL1(double x) {
        double a = Math.abs(x);
        return a < 1 ? 0.5 * x * x : a - 0.5;
    }

    /** Derivative of {@link #smoothL1}. */
    static double smoothL1Grad(double x) {
        return Math.abs(x) < 1 ? x : Math.signum(x);
    }

    /** Gram matrix {@code G = X Xᵀ} of {@code rows} rows of width {@code width}. */
    static double[] gram(double[] x, int rows, int width) {
        double[] g = new double[rows * rows];
        for (int i = 0; i < rows; i++) {
            for (int j = i; j < rows; j++) {
                double dot = 0;
                for (int k = 0; k < width; k++) {
                    dot += x[i * width + k] * x[j * width + k];
                }
                g[i * rows + j] = dot;
                g[j * rows + i] = dot;
            }
        }
        return g;
    }

    /** {@code dX = (dG + dGᵀ) X}: the gradient of {@code G = X Xᵀ}. */
    static double[] gramBackward(double[] dG, double[] x, int rows, int width) {
        double[] dx = new double[rows * width];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
                double c = dG[i * rows + j] + dG[j * rows + i];
                if (c != 0) {
                    for (int k = 0; k < width; k++) {
                        dx[i * width + k] += c * x[j * width + k];
                    }
                }
            }
        }
        return dx;
    }
}
