package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorPairLoad.blockSums;
import static io.kd4j.losses.kernels.VectorPairLoad.fits;
import static io.kd4j.losses.kernels.VectorPairLoad.guess;
import static io.kd4j.losses.kernels.VectorPairLoad.nonFinite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 vector kernel's load pass of one row, fused with its exponentials as in
 * {@link VectorPairLoad} (which reads both rows): the student's for the first top-k term, the teacher's
 * for LTKD's rebalancing pass; and that pass on two teacher rows in one loop ({@link #loadTeachers}). Same
 * guessed shift, bound and finiteness check.
 */
final class VectorSingleLoad {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = VectorRowKernel.L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorSingleLoad() {
    }

    /**
     * The student half of {@link VectorPairLoad#load}, for top-k term {@code top}: reads row {@code row} of the
     * student and stores {@code exp((s - g) / T)} into {@code k.q}, {@code g} its guessed shift (left in
     * {@code k.guessS}, the maximum in {@code k.maxS}). It copies the row into {@code k.s} only when a term
     * reads it there ({@link LoadedRows#readRows}): not a top-k term alone, which reads its k classes from the
     * batch's buffer and calls {@link LoadedRows#fillStudent} before it shifts the rest by its own maximum
     * (also the path of a row whose exponentials do not stand). A non-finite value is an error naming it.
     *
     * @return whether the exponentials stand ({@code (max - g) / T <= SHIFT_LIMIT})
     */
    static boolean loadStudent(VectorRowKernel k, Batch b, int row, int c, int top) {
        float inv = (float) (1 / b.terms[top].temperature());
        boolean keep = LoadedRows.readRows(b, top);
        float g = single(k, b.student, row, c, inv, k.s, k.q, "student_logits", keep);
        k.loaded.set(b, row, keep);
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
        float g = single(k, b.teacher, row, c, inv, k.t, k.p, "teacher_logits", true);
        k.maxT = k.loadedMax;
        k.guessT = g;
        return fits(k.maxT, g, inv);
    }

    /**
     * {@link #alone} on row {@code row} of {@code rows} (off-heap) into {@code x} (with {@code keep}) and
     * {@code e}, shifted by the row's guess, which it returns; a non-finite value is an error naming input
     * {@code name}.
     */
    private static float single(VectorRowKernel k, DenseRows rows, int row, int c, float inv, float[] x, float[] e,
                                String name, boolean keep) {
        ByteBuffer bytes = rows.bytes();
        int at = rows.start(row);
        blockSums(k, c);
        float g = guess(bytes, at, c, -1);
        if (k.lazy.active && k.lazy.blockGroup != null) {
            k.lazy.writeInto(k.g, k.q, c); // LTKD's form, which alone() does not evaluate (not reached)
        }
        k.lazy.prepare(k.q); // a held gradient's added classes, before alone() overwrites q
        alone(k, bytes, at, c, g, inv, x, e, keep);
        k.lazy.writeAdded(k.flushTo, k.flushAt);
        if (k.loadedCheck != 0f) {
            if (!keep) {
                rows.read(row, x);
            }
            Kernels.rejectNonFinite(x, c, name, row);
        }
        return g;
    }

    /**
     * Copies the row at float index {@code at} of {@code bytes} into {@code t} (with {@code keep}; the scalar
     * tail always) and stores
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
                              float[] t, float[] p, boolean keep) {
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
                if (keep) {
                    v.intoArray(t, j);
                }
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

    /**
     * LTKD's rebalancing pass on two teacher rows of one batch, {@code row} and {@code next}, read side by
     * side in one loop (as {@link VectorPairLoad} reads a student row and a teacher row: two independent
     * chains of exponentials per iteration): stores {@code exp((t - g) / T)} of {@code row} into {@code k.p}
     * and of {@code next} into {@code k.q}, each shifted by its own guess, in the blocks of
     * {@value RowKernel#BLOCK} classes that lie in more than one group ({@code pure}, the groups'
     * {@link FusedTerm.LtkdGroups#blockGroups}; the other blocks need only their sums), with their sums per
     * block in slots 0 and 1 of {@code k.blockSums}. Copies neither row, and leaves {@code k.t} and
     * {@code k.s} overwritten. Leaves
     * {@code row}'s guess in {@code k.guessT} and {@code next}'s in {@code k.guessS}; in {@code k.maxT} and
     * {@code k.maxS} a value that passes {@link VectorPairLoad#fits} exactly when the exponentials stand
     * (see {@link #two}). A non-finite value is an error naming it ({@code row}'s first).
     */
    static void loadTeachers(VectorRowKernel k, Batch b, int row, int next, int c, double tau, int[] pure) {
        ByteBuffer bytes = b.teacher.bytes();
        int a1 = b.teacher.start(row);
        int a2 = b.teacher.start(next);
        blockSums(k, c);
        float g1 = guess(bytes, a1, c, -1);
        float g2 = guess(bytes, a2, c, -1);
        k.guessT = g1;
        k.guessS = g2;
        two(k, bytes, a1, a2, c, g1, g2, (float) (1 / tau), pure);
        if (k.loadedCheck != 0f) {
            b.teacher.read(row, k.t);
            Kernels.rejectNonFinite(k.t, c, "teacher_logits", row);
            b.teacher.read(next, k.t);
            Kernels.rejectNonFinite(k.t, c, "teacher_logits", next);
        }
    }

    /**
     * The loop of {@link #loadTeachers}: the rows at float indices {@code a1} and {@code a2} of {@code bytes}.
     * Like {@link VectorBoundedLanes}, it keeps the largest integer part of the exponentials' arguments in
     * {@code log2} units ({@link VectorExp#integerPart}, which the exponential computes anyway), one register
     * for both rows, instead of the rows' maxima, which serve here only to decide whether the guessed shifts
     * stand: with every integer part at most {@link VectorBoundedLanes#LIMIT_LOG2} the guesses are left as
     * {@code k.maxT} and {@code k.maxS} (the scalar tail adds its values), else both are {@code +inf}, so that
     * {@link VectorPairLoad#fits} fails and both rows take their maxima from their copies (the results do not
     * depend on the path).
     */
    private static void two(VectorRowKernel k, ByteBuffer bytes, int a1, int a2, int c, float g1, float g2,
                            float inv, int[] pure) {
        float[] p = k.p;
        float[] q = k.q;
        double[] blockSums = k.blockSums;
        int up = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vg1 = FloatVector.broadcast(S, g1);
        FloatVector vg2 = FloatVector.broadcast(S, g2);
        int bits = Integer.MIN_VALUE;
        float check = 0f;
        int block = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK, block++) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            // a block of one group needs only its sums: its exponentials go to the start of the row buffers
            // t and s, which this pass does not use otherwise (one block's worth, in the L1 cache). Stored
            // into p and q, every block's took LTKD 1.09–1.12 times as long; leaving the stores out of those
            // blocks with a second copy of the loop, 1.2 times (docs/performance-log.md, thirteenth round)
            boolean one = pure[block] >= 0;
            float[] dp = one ? k.t : p;
            float[] dq = one ? k.s : q;
            int off = one ? j0 : 0;
            IntVector mxn = IntVector.broadcast(I, Integer.MIN_VALUE);
            FloatVector bad = FloatVector.zero(S);
            FloatVector z1 = FloatVector.zero(S);
            FloatVector z2 = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector v = FloatVector.fromByteBuffer(S, bytes, 4 * (a1 + j), ORDER);
                FloatVector w = FloatVector.fromByteBuffer(S, bytes, 4 * (a2 + j), ORDER);
                bad = bad.add(v).add(w);
                FloatVector vg = v.sub(vg1);
                FloatVector wg = w.sub(vg2);
                mxn = mxn.lanewise(VectorOperators.MAX, VectorExp.integerPart(vg, vil))
                        .lanewise(VectorOperators.MAX, VectorExp.integerPart(wg, vil));
                FloatVector e = VectorExp.expShifted(vg, vinv, vil);
                FloatVector f = VectorExp.expShifted(wg, vinv, vil);
                e.intoArray(dp, j - off);
                f.intoArray(dq, j - off);
                z1 = z1.add(e);
                z2 = z2.add(f);
            }
            blockSums[4 * block] = z1.reduceLanes(VectorOperators.ADD);
            blockSums[4 * block + 1] = z2.reduceLanes(VectorOperators.ADD);
            bits = Math.max(bits, mxn.reduceLanes(VectorOperators.MAX));
            check += nonFinite(bad.reduceLanes(VectorOperators.ADD));
        }
        boolean stand = VectorExp.integerPartOf(bits) <= VectorBoundedLanes.LIMIT_LOG2;
        float max1 = stand ? g1 : Float.POSITIVE_INFINITY;
        float max2 = stand ? g2 : Float.POSITIVE_INFINITY;
        double z1 = 0;
        double z2 = 0;
        for (int j = up; j < c; j++) {
            float v = bytes.getFloat(4 * (a1 + j));
            float w = bytes.getFloat(4 * (a2 + j));
            max1 = Math.max(max1, v);
            max2 = Math.max(max2, w);
            check += (v - v) + (w - w);
            float e = VectorRowKernel.exp((v - g1) * inv);
            float f = VectorRowKernel.exp((w - g2) * inv);
            p[j] = e;
            q[j] = f;
            z1 += e;
            z2 += f;
        }
        blockSums[4 * block] = z1;
        blockSums[4 * block + 1] = z2;
        k.maxT = max1;
        k.maxS = max2;
        k.loadedCheck = check;
    }
}
