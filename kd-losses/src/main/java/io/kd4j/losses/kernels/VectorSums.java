package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The maximum of a float row, and sums over float rows in vector lanes, the kernels' way: float lanes within
 * a block of {@value RowKernel#BLOCK} values, each block's lanes added up into a double. A plain loop
 * {@code sum += x[j]} in double is one dependent chain of additions: a cross-entropy's label-smoothing sum
 * taken that way (with the rows' copies it needed) cost about 20 µs per row at 32,000 classes, about as much
 * as the rest of its row (docs/performance-log.md, "Kernel CPU time", ninth round).
 */
final class VectorSums {
    private VectorSums() {
    }

    /** The maximum of {@code x[0, c)}. */
    static float max(float[] x, int c) {
        int up = S.loopBound(c);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < up; j += L) {
            vmax = VectorRowKernel.larger(vmax, FloatVector.fromArray(S, x, j));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (int j = up; j < c; j++) {
            max = Math.max(max, x[j]);
        }
        return max;
    }

    /** {@code Σ x[0, c)}. */
    static double sum(float[] x, int c) {
        return sumAround(x, c, 0f); // x - 0 is x, -0 included
    }

    /** The largest of {@code x[0, c)} but class {@code ex} ({@code x} is left as it was). */
    static float maxExcept(float[] x, int c, int ex) {
        float v = x[ex];
        x[ex] = Float.NEGATIVE_INFINITY;
        float m = max(x, c);
        x[ex] = v;
        return m;
    }

    /** {@code Σ x[from, to)}: float lanes from {@code from} (one block's worth at most), then a scalar tail. */
    static double sum(float[] x, int from, int to) {
        FloatVector a = FloatVector.zero(S);
        int j = from;
        for (; j + L <= to; j += L) {
            a = a.add(FloatVector.fromArray(S, x, j));
        }
        double z = a.reduceLanes(VectorOperators.ADD);
        for (; j < to; j++) {
            z += x[j];
        }
        return z;
    }

    /**
     * {@code Σ (x - pivot)} over {@code x[0, c)}, with {@code x - pivot} in float: for a pivot within the row's
     * spread (its first value), the lanes add up values of the size of the spread, not of the logits (a row of
     * mean 30,000 and spread 1, summed in float lanes as it is, would give its mean off by about 0.01).
     */
    static double sumAround(float[] x, int c, float pivot) {
        int up = S.loopBound(c);
        FloatVector vp = FloatVector.broadcast(S, pivot);
        double z = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector a = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                a = a.add(FloatVector.fromArray(S, x, j).sub(vp));
            }
            z += a.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            z += x[j] - pivot;
        }
        return z;
    }

    /**
     * {@code Σ (x - mean)²} over {@code x[0, c)}, {@code mean = hi + lo}, with {@code x - mean = (x - hi) - lo}
     * in float.
     */
    static double squares(float[] x, int c, float hi, float lo) {
        int up = S.loopBound(c);
        FloatVector vm = FloatVector.broadcast(S, hi);
        FloatVector vlo = FloatVector.broadcast(S, lo);
        double z = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector a = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector d = FloatVector.fromArray(S, x, j).sub(vm).sub(vlo);
                a = d.fma(d, a);
            }
            z += a.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            float d = x[j] - hi - lo;
            z += d * d;
        }
        return z;
    }
}
