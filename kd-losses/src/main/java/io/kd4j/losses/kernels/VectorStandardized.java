package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;

/**
 * A standardized term ({@link Standardize}) in the float32 vector kernel: the buffers of one thread's
 * {@link VectorRowKernel} for the z-scores of both rows, their gradient, double copies, and each row's
 * {mean, D, std}.
 */
final class VectorStandardized {
    private float[] zs = new float[0];
    private float[] zt = new float[0];
    private float[] gz = new float[0];
    private double[][] wide = new double[3][0];
    private final double[] statsS = new double[3];
    private final double[] statsT = new double[3];

    /** Makes the buffers hold {@code c} classes. */
    void ensure(int c) {
        if (zs.length < c) {
            zs = new float[c];
            zt = new float[c];
            gz = new float[c];
            wide = new double[3][c];
        }
    }

    /**
     * Term {@code i} of {@code k}'s row on the z-scores of both rows: the term runs on standardized
     * copies with its gradient in a spare buffer, which is then taken back through the standardization
     * and added to the gradient row as any term's.
     */
    double term(VectorRowKernel k, Batch b, int i, int c, int label, boolean wantGrad, double gw, double[] values) {
        float[] s0 = k.s;
        float[] t0 = k.t;
        float[] g0 = k.g;
        boolean first0 = k.first;
        ByteBuffer out0 = k.out;
        Standardize.zScores(s0, zs, c, statsS, wide[0]);
        Standardize.zScores(t0, zt, c, statsT, wide[0]);
        k.s = zs;
        k.t = zt;
        k.g = gz;
        k.first = true;
        k.out = null;
        double v;
        try {
            v = k.term(b, i, c, VectorRowKernel.max(zs, c), VectorRowKernel.max(zt, c), label, wantGrad, gw, values);
        } finally {
            k.s = s0;
            k.t = t0;
            k.g = g0;
            k.first = first0;
            k.out = out0;
        }
        if (wantGrad) {
            Standardize.takeBack(gz, s0, c, statsS, wide[0], wide[1], wide[2]);
            for (int j = 0; j < c; j++) {
                k.store(j, k.first ? gz[j] : g0[j] + gz[j]);
            }
            k.first = false;
        }
        return v;
    }
}
