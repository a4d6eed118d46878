package io.kd4j.losses.kernels;

import io.kd4j.losses.logit.StandardizedLogits;

/**
 * Logit standardization for the fused kernels, one row at a time, as
 * {@link io.kd4j.losses.logit.StandardizedLogits} (Sun et al., CVPR 2024):
 * <pre>
 *   z = (x - mean(x)) / D,   D = eps + std(x),  std unbiased (divisor C - 1), eps = 1e-7
 *   dL/dx_j = (g_j - mean(g)) / D  -  (Σ_i g_i d_i) d_j / (D² (C - 1) std),   g = dL/dz, d = x - mean(x)
 * </pre>
 * (the second part is 0 for a constant row, where {@code std = 0} and {@code d = 0}). The arithmetic is
 * the catalogue class's own ({@link StandardizedLogits#zScores}, {@link StandardizedLogits#addGradient}),
 * in double; the float32 vector kernel has them in float lanes ({@link VectorStandardized}).
 * {@code stats} receives {@code {mean, D, std}} of the row.
 */
final class Standardize {
    private Standardize() {
    }

    /** The error of the catalogue class for fewer than 2 classes. */
    static void checkClasses(FusedTerm term, int classes) {
        if (term.standardize()) {
            StandardizedLogits.requireClasses(term.kind() == FusedTerm.Kind.DKD ? "Dkd" : "SoftTargetKl", classes);
        }
    }

    static void zScores(double[] x, double[] z, int c, double[] stats) {
        StandardizedLogits.zScores(x, z, 0, c, stats, 0);
    }

    static double max(double[] x, int c) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            m = Math.max(m, x[j]);
        }
        return m;
    }

    /** {@code out[j] += dL/dx_j} from the gradient {@code gz} with respect to the z-scores of {@code x}. */
    static void addBack(double[] gz, double[] x, int c, double[] stats, double[] out) {
        StandardizedLogits.addGradient(gz, x, 0, c, stats, 0, out);
    }
}
