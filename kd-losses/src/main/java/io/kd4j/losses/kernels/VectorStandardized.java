package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import io.kd4j.losses.logit.StandardizedLogits;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A standardized term ({@link Standardize}) in the float32 vector kernel: KD ({@link VectorStandardizedKd})
 * and DKD ({@link VectorStandardizedDkd}), the two kinds a term may standardize, take the z-scores of both
 * rows where they use them, with each row's {mean, D, std} and maximum from {@link #stats}: once per row,
 * the mean from the sum that the row's copy took ({@link #copy}) where the row was copied (an objective
 * without a dense pair term that is not standardized, {@link VectorPairLoad#pairTerm}), else by
 * {@link #rowStats}.
 *
 * <p>The standardization runs in float lanes, the formulas of {@link Standardize}: the mean from the sum of
 * {@code x - x[0]} (values of the size of the row's spread, not of the logits), and held as a sum of two
 * floats ({@code hi + lo}), so that {@code x - mean} is as close as in double ({@code (x - hi) - lo}); the
 * sums in float lanes per block added up in double; the z-scores as {@code (x - mean) · (1 / D)}. Through
 * double copies and plain loops, as before the ninth round, standardized KD took 7 times KD's time at
 * 2048 × 32000; through z-score buffers in float lanes, as before the fourteenth (KD) and fifteenth (DKD)
 * rounds, about 3 times (docs/performance-log.md, "Kernel CPU time").
 */
final class VectorStandardized {
    private final double[] statsS = new double[3];
    private final double[] statsT = new double[3];
    private final float[] consts = new float[10];
    private final double[] sums = new double[5];
    /** Per row of the pair (0 the student's, 1 the teacher's): {@code Σ (x - x[0])} from its copy, its maximum. */
    private final double[] centred = new double[2];
    private final float[] max = new float[2];
    /** Whether {@link #copy} took the row's sum; whether its {mean, D, std} and maximum are known. */
    private final boolean[] summed = new boolean[2];
    private final boolean[] known = new boolean[2];

    /** Forgets the last row's sums and statistics; at the start of every row. */
    void forget() {
        summed[0] = false;
        summed[1] = false;
        known[0] = false;
        known[1] = false;
    }

    /**
     * Copies a row into {@code dst} and returns its maximum ({@link VectorPairLoad#copy}); for a batch with a
     * standardized term, takes the sum for its mean in the same loop ({@link VectorPairLoad#copyCentred}).
     * {@code which}: 0 for the student's row, 1 for the teacher's.
     */
    float copy(Batch b, DenseRows rows, int row, float[] dst, int c, String name, int which) {
        for (FusedTerm term : b.terms) {
            if (term.standardize()) {
                max[which] = VectorPairLoad.copyCentred(rows, row, dst, c, name, centred, which);
                summed[which] = true;
                return max[which];
            }
        }
        return VectorPairLoad.copy(rows, row, dst, c, name);
    }

    /**
     * Term {@code i} of {@code k}'s row on the z-scores of both rows, its gradient written to (or added to)
     * the gradient row as any term's.
     */
    double term(VectorRowKernel k, Batch b, int i, int c, int label, boolean wantGrad, double gw, double[] values) {
        FusedTerm term = b.terms[i];
        float maxS = stats(k.s, c, statsS, 0);
        float maxT = stats(k.t, c, statsT, 1);
        return switch (term.kind()) {
            case SOFT_TARGET_KL -> VectorStandardizedKd.kd(k, c, term.temperature(), wantGrad, gw, maxS, maxT,
                    statsS, statsT, consts, sums);
            case DKD -> VectorStandardizedDkd.dkd(k, c, label, term, wantGrad, gw, values, b.slot[i], maxS, maxT,
                    statsS, statsT, consts, sums);
            default -> throw new IllegalStateException("no standardized " + term.kind()); // FusedTerm rejects it
        };
    }

    /**
     * {@code {mean, D, std}} of the row {@code x} into {@code stats}, and its maximum: once per row, from the
     * copy's sum where {@link #copy} took it, else by {@link #rowStats}.
     */
    private float stats(float[] x, int c, double[] stats, int which) {
        if (!known[which]) {
            if (summed[which]) {
                moments(x, c, x[0] + centred[which] / c, stats);
            } else {
                max[which] = rowStats(x, c, stats);
            }
            known[which] = true;
        }
        return max[which];
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
        moments(x, c, x0 + sum / c, stats);
        return max;
    }

    /** {@code {mean, D, std}} of {@code x[0, c)} into {@code stats}, its mean given. */
    private static void moments(float[] x, int c, double mean, double[] stats) {
        float hi = (float) mean;
        float lo = (float) (mean - hi);
        double std = Math.sqrt(VectorSums.squares(x, c, hi, lo) / (c - 1));
        stats[0] = mean;
        stats[1] = StandardizedLogits.EPS + std;
        stats[2] = std;
    }
}
