package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import io.kd4j.losses.logit.StandardizedLogits;
import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A standardized term ({@link Standardize}) in the float32 vector kernel: the buffers of one thread's
 * {@link VectorRowKernel} for the z-scores of both rows and their gradient, and each row's {mean, D, std}.
 *
 * <p>The standardization and its gradient run in float lanes ({@link VectorSums}), the formulas of
 * {@link Standardize}: the mean from the sum of {@code x - x[0]} (values of the size of the row's spread,
 * not of the logits), and held as a sum of two floats ({@code hi + lo}), so that {@code x - mean} is as
 * close as in double ({@code (x - hi) - lo}); the sums in float lanes per block added up in double; the
 * z-scores as {@code (x - mean) · (1 / D)}. Through double copies and plain loops, as before, standardized
 * KD took 7 times KD's time at 2048 × 32000 (docs/performance-log.md, "Kernel CPU time", ninth round).
 */
final class VectorStandardized {
    private float[] zs = new float[0];
    private float[] zt = new float[0];
    private float[] gz = new float[0];
    private final double[] statsS = new double[3];
    private final double[] statsT = new double[3];
    private final float[] kdConsts = new float[10];
    private final double[] kdSums = new double[5];

    /** Makes the buffers hold {@code c} classes. */
    void ensure(int c) {
        if (zs.length < c) {
            zs = new float[c];
            zt = new float[c];
            gz = new float[c];
        }
    }

    /**
     * Term {@code i} of {@code k}'s row on the z-scores of both rows: the term runs on standardized
     * copies with its gradient in a spare buffer, which is then taken back through the standardization
     * and added to the gradient row as any term's. KD takes its z-scores where it uses them instead
     * ({@link VectorStandardizedKd}).
     */
    double term(VectorRowKernel k, Batch b, int i, int c, int label, boolean wantGrad, double gw, double[] values) {
        if (b.terms[i].kind() == FusedTerm.Kind.SOFT_TARGET_KL) {
            return VectorStandardizedKd.kd(k, c, b.terms[i].temperature(), wantGrad, gw, statsS, statsT, kdConsts,
                    kdSums);
        }
        float[] s0 = k.s;
        float[] t0 = k.t;
        float[] g0 = k.g;
        boolean first0 = k.first;
        ByteBuffer out0 = k.out;
        float maxS = zScores(s0, zs, c, statsS);
        float maxT = zScores(t0, zt, c, statsT);
        k.s = zs;
        k.t = zt;
        k.g = gz;
        k.first = true;
        k.out = null;
        double v;
        try {
            v = k.term(b, i, c, maxS, maxT, label, wantGrad, gw, values);
        } finally {
            k.s = s0;
            k.t = t0;
            k.g = g0;
            k.first = first0;
            k.out = out0;
        }
        if (wantGrad) {
            takeBack(gz, s0, c, statsS);
            int up = S.loopBound(c);
            boolean replace = k.first;
            for (int j = 0; j < up; j += L) {
                FloatVector d = FloatVector.fromArray(S, gz, j);
                k.store(replace ? d : FloatVector.fromArray(S, g0, j).add(d), j);
            }
            for (int j = up; j < c; j++) {
                k.store(j, replace ? gz[j] : g0[j] + gz[j]);
            }
            k.first = false;
        }
        return v;
    }

    /**
     * The z-scores of {@code x[0, c)} into {@code z}, {@code {mean, D, std}} into {@code stats}
     * ({@link StandardizedLogits#zScores} in float lanes); returns the largest z-score, from the row's maximum
     * by the same float operations (so the same value as the largest of {@code z}).
     */
    static float zScores(float[] x, float[] z, int c, double[] stats) {
        float max = rowStats(x, c, stats);
        float hi = (float) stats[0];
        float lo = (float) (stats[0] - hi);
        float inv = (float) (1 / stats[1]);
        int up = S.loopBound(c);
        FloatVector vhi = FloatVector.broadcast(S, hi);
        FloatVector vlo = FloatVector.broadcast(S, lo);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        for (int j = 0; j < up; j += L) {
            FloatVector.fromArray(S, x, j).sub(vhi).sub(vlo).mul(vinv).intoArray(z, j);
        }
        for (int j = up; j < c; j++) {
            z[j] = (x[j] - hi - lo) * inv;
        }
        return (max - hi - lo) * inv;
    }

    /**
     * {@code {mean, D, std}} of {@code x[0, c)} into {@code stats} ({@link StandardizedLogits#zScores}' in float
     * lanes: the mean from the sum of {@code x - x[0]}, the deviation from {@code (x - hi) - lo}); returns the
     * row's maximum, taken in the mean's pass.
     */
    static float rowStats(float[] x, int c, double[] stats) {
        float x0 = x[0];
        int up = S.loopBound(c);
        FloatVector vp = FloatVector.broadcast(S, x0);
        double sum = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            // two chains of sums and maxima per block (each add and compare waits for the one before it), and
            // per block, as every vector this loop carries: carried across blocks, C2 boxed the maximum
            FloatVector a = FloatVector.zero(S);
            FloatVector a2 = a;
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            FloatVector vmax2 = vmax;
            int j = j0;
            for (; j + L < end; j += 2 * L) {
                FloatVector v = FloatVector.fromArray(S, x, j);
                FloatVector w = FloatVector.fromArray(S, x, j + L);
                a = a.add(v.sub(vp));
                a2 = a2.add(w.sub(vp));
                vmax = VectorRowKernel.larger(vmax, v);
                vmax2 = VectorRowKernel.larger(vmax2, w);
            }
            if (j < end) {
                FloatVector v = FloatVector.fromArray(S, x, j);
                a = a.add(v.sub(vp));
                vmax = VectorRowKernel.larger(vmax, v);
            }
            sum += a.add(a2).reduceLanes(VectorOperators.ADD);
            max = Math.max(max, VectorRowKernel.larger(vmax, vmax2).reduceLanes(VectorOperators.MAX));
        }
        for (int j = up; j < c; j++) {
            sum += x[j] - x0;
            max = Math.max(max, x[j]);
        }
        double mean = x0 + sum / c;
        float hi = (float) mean;
        float lo = (float) (mean - hi);
        double std = Math.sqrt(VectorSums.squares(x, c, hi, lo) / (c - 1));
        stats[0] = mean;
        stats[1] = StandardizedLogits.EPS + std;
        stats[2] = std;
        return max;
    }

    /**
     * {@code dL/dx_j} into {@code g} itself from {@code g = dL/dz} of the row {@code x} ({@link #zScores}'s
     * {@code stats}; {@link StandardizedLogits#addGradient} in float lanes).
     */
    static void takeBack(float[] g, float[] x, int c, double[] stats) {
        double mean = stats[0];
        double den = stats[1];
        double std = stats[2];
        float hi = (float) mean;
        float lo = (float) (mean - hi);
        double gMean = VectorSums.sum(g, c) / c;
        double gd = VectorSums.centredDot(g, x, c, hi, lo);
        float second = (float) (std > 0 ? gd / (den * den * (c - 1) * std) : 0.0);
        float inv = (float) (1 / den);
        float gm = (float) gMean;
        int up = S.loopBound(c);
        FloatVector vhi = FloatVector.broadcast(S, hi);
        FloatVector vlo = FloatVector.broadcast(S, lo);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vgm = FloatVector.broadcast(S, gm);
        FloatVector vsecond = FloatVector.broadcast(S, -second);
        for (int j = 0; j < up; j += L) {
            FloatVector d = FloatVector.fromArray(S, x, j).sub(vhi).sub(vlo);
            FloatVector.fromArray(S, g, j).sub(vgm).mul(vinv).add(d.mul(vsecond)).intoArray(g, j);
        }
        for (int j = up; j < c; j++) {
            g[j] = (g[j] - gm) * inv - second * (x[j] - hi - lo);
        }
    }
}
