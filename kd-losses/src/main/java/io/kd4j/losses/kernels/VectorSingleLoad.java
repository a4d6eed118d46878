package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorPairLoad.blockSums;
import static io.kd4j.losses.kernels.VectorPairLoad.fits;
import static io.kd4j.losses.kernels.VectorPairLoad.guess;
import static io.kd4j.losses.kernels.VectorPairLoad.nonFinite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 vector kernel's load pass of one row, fused with its exponentials as in
 * {@link VectorPairLoad} (which reads both rows): the student's for the first top-k term, the teacher's
 * for LTKD's rebalancing pass. Same guessed shift, bound and finiteness check.
 */
final class VectorSingleLoad {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final int L = VectorRowKernel.L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorSingleLoad() {
    }

    /**
     * The student half of {@link VectorPairLoad#load}, for a top-k term: reads row {@code row} of the student into
     * {@code k.s} and stores {@code exp((s - g) / T)} into {@code k.q}, {@code g} its guessed shift (left in
     * {@code k.guessS}, the maximum in {@code k.maxS}). A non-finite value is an error naming it.
     *
     * @return whether the exponentials stand ({@code (max - g) / T <= SHIFT_LIMIT})
     */
    static boolean loadStudent(VectorRowKernel k, Batch b, int row, int c, double tau) {
        float inv = (float) (1 / tau);
        float g = single(k, b.student, row, c, inv, k.s, k.q, "student_logits");
        k.maxS = k.loadedMax;
        k.guessS = g;
        return fits(k.maxS, g, inv);
    }

    /**
     * The teacher half of {@link VectorPairLoad#load}, for LTKD's rebalancing pass: reads row {@code row} of
     * the teacher into {@code k.t} and stores {@code exp((t - g) / T)} into {@code k.p}, {@code g} its guessed
     * shift (left in {@code k.guessT}, the maximum in {@code k.maxT}). A non-finite value is an error naming
     * it.
     *
     * @return whether the exponentials stand ({@code (max - g) / T <= SHIFT_LIMIT})
     */
    static boolean loadTeacher(VectorRowKernel k, Batch b, int row, int c, double tau) {
        float inv = (float) (1 / tau);
        float g = single(k, b.teacher, row, c, inv, k.t, k.p, "teacher_logits");
        k.maxT = k.loadedMax;
        k.guessT = g;
        return fits(k.maxT, g, inv);
    }

    /**
     * {@link #alone} on row {@code row} of {@code rows} (off-heap) into {@code x} and {@code e}, shifted by
     * the row's guess, which it returns; a non-finite value is an error naming input {@code name}.
     */
    private static float single(VectorRowKernel k, DenseRows rows, int row, int c, float inv, float[] x, float[] e,
                                String name) {
        ByteBuffer bytes = rows.bytes();
        int at = rows.start(row);
        blockSums(k, c);
        float g = guess(bytes, at, c, -1);
        k.lazy.prepare(k.q); // a held gradient's added classes, before alone() overwrites q
        alone(k, bytes, at, c, g, inv, x, e);
        k.lazy.writeAdded(k.flushTo, k.flushAt);
        if (k.loadedCheck != 0f) {
            Kernels.rejectNonFinite(x, c, name, row);
        }
        return g;
    }

    /**
     * Copies the row at float index {@code at} of {@code bytes} into {@code t} and stores
     * {@code exp((t - g) · inv)} into {@code p} (LTKD's teacher: {@code k.t} and {@code k.p}; a top-k
     * term's student: {@code k.s} and {@code k.q}); their sum per block of {@value RowKernel#BLOCK} values
     * goes to {@code k.blockSums} (slot 0 of each block; the scalar tail is the last block). Leaves the
     * row's maximum in {@code k.loadedMax} and, in {@code k.loadedCheck}, a sum that is not 0 when a value
     * is not finite ({@link VectorPairLoad#nonFinite} of the row's sum; also when that sum overflows). Like
     * {@link VectorPairLoad#load}, it writes the previous row's gradient to {@code k.flushTo} while it reads,
     * when that is set: {@code k.g}, or the formula {@code k.lazy} holds, read from {@code k.q} and its
     * {@code x} at each class before the class's new exponentials are stored (the caller writes the
     * formula's added classes).
     */
    private static void alone(VectorRowKernel k, ByteBuffer bytes, int at, int c, float g, float inv,
                              float[] t, float[] p) {
        float[] gr = k.g;
        ByteBuffer gb = k.flushTo;
        int ga = k.flushAt;
        // the previous row's gradient: g, or its formula over k.q and x read before this row's stores
        LazyGradient lazy = k.lazy;
        boolean held = lazy.active;
        float[] fq = held ? k.q : gr;
        float[] fx = held ? lazy.x : gr;
        FloatVector vkq = FloatVector.broadcast(S, held ? lazy.kq : 1f);
        FloatVector vkx = FloatVector.broadcast(S, held ? lazy.kx : 0f);
        double[] blockSums = k.blockSums;
        int up = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vg = FloatVector.broadcast(S, g);
        float max = Float.NEGATIVE_INFINITY;
        float check = 0f;
        int block = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK, block++) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            FloatVector bad = FloatVector.zero(S);
            FloatVector az = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector v = FloatVector.fromByteBuffer(S, bytes, 4 * (at + j), ORDER);
                v.intoArray(t, j);
                vmax = VectorRowKernel.larger(vmax, v);
                bad = bad.add(v);
                FloatVector e = VectorExp.expShifted(v.sub(vg), vinv, vil);
                if (gb != null) {
                    FloatVector o = held
                            ? FloatVector.fromArray(S, fx, j).fma(vkx, FloatVector.fromArray(S, fq, j).mul(vkq))
                            : FloatVector.fromArray(S, gr, j);
                    o.intoByteBuffer(gb, 4 * (ga + j), ORDER);
                }
                e.intoArray(p, j);
                az = az.add(e);
            }
            blockSums[4 * block] = az.reduceLanes(VectorOperators.ADD);
            max = Math.max(max, vmax.reduceLanes(VectorOperators.MAX));
            check += nonFinite(bad.reduceLanes(VectorOperators.ADD));
        }
        double z = 0;
        for (int j = up; j < c; j++) {
            if (gb != null) {
                gb.putFloat(4 * (ga + j), held ? lazy.base(k.q, j) : gr[j]);
            }
            float v = bytes.getFloat(4 * (at + j));
            t[j] = v;
            max = Math.max(max, v);
            check += v - v;
            float e = VectorRowKernel.exp((v - g) * inv);
            p[j] = e;
            z += e;
        }
        blockSums[4 * block] = z;
        k.loadedMax = max;
        k.loadedCheck = check;
    }
}
