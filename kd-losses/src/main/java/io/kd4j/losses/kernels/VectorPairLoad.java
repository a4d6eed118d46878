package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 vector kernel's load pass fused with the exponentials of the first dense pair term (KD,
 * reverse KL, TVD, JSD, DKD or LTKD), for rows held in off-heap ND4J buffers: each row is read from memory by a
 * loop that also computes its exponentials, instead of a load pass followed by a pass of exponentials
 * over the row buffers. For DKD the target class is left out of the guesses and the sums (the sums of
 * the block that holds it are taken again from the row buffers), and the bound applies to the maxima of
 * the other classes, the shifts DKD's non-target softmax uses. LTKD takes the group sums from the stored
 * exponentials, with the guesses as the shift of every group ({@link VectorLtkdTerm#ltkd}).
 *
 * <p>A softmax needs its shift (the row maximum) before its exponentials, and the maximum is known only
 * once the row has been read. This pass shifts by a guess instead: {@code g}, the largest of the row's
 * first {@value #GUESS_VALUES} values. A softmax does not depend on its shift, so {@code exp((x - g) / T)}
 * normalised by its own sum is the same distribution, and each term's formulas take {@code g} where they
 * took the maximum. Because {@code g <= max}, the arguments are at least as large as with the maximum:
 * nothing underflows that did not before. They can be above 0 (up to {@code (max - g) / T}); the pass is
 * used only when that is at most {@value #SHIFT_LIMIT}, so every exponential stays a normal float
 * ({@code e^64 = 6e27}) and a block's float-lane sum (128 values per lane) stays far below the float
 * range. Otherwise ({@link #fits}) the caller recomputes the exponentials with the true maxima, from
 * the row buffers this pass filled, as without it: the result does not depend on which path ran.
 *
 * <p>Measured on this project's 2-core machines (docs/performance.md): a loop that loads, checks and
 * exponentiates is faster than a load pass followed by a pass of exponentials. The two rows are read in
 * one loop, side by side ({@link VectorPairLanes}): on a 2-core Xeon with 512-bit vectors one core reads two
 * streams of memory faster than one after the other (about 0.85× the time of KD's kernel, same
 * results); with 256-bit vectors the two ways took the same time. The loop-carried sums, maxima and
 * finiteness vectors are kept per block of {@value RowKernel#BLOCK} values and added up outside the
 * inner loop, which C2 then compiles without boxing a vector.
 */
final class VectorPairLoad {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final int L = VectorRowKernel.L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** How many leading values of a row give its guessed shift. */
    static final int GUESS_VALUES = 16;
    /** The largest {@code (max - g) / T} for which the guessed shift is used. */
    static final float SHIFT_LIMIT = 64f;
    /**
     * The smallest sum, shifted by the guess, of the exponentials of a part of a row (an LTKD group, the
     * classes outside a top-k) for which the guess serves as that part's shift: the part's largest
     * exponential is then at least {@code e^-20 / size}, so its own maximum is at most {@code 20 + ln(size)}
     * (&lt; 42) temperatures below the guess, and only its classes below {@code e^-45} of its largest lose
     * accuracy to the float floor {@code exp(-87.3)} (with its own maximum, those below {@code e^-87}).
     * Below it, the part is shifted by its own maximum.
     */
    static final double PART_FLOOR = Math.exp(-20);

    private VectorPairLoad() {
    }

    /**
     * The first term whose exponentials this pass can compute while loading the row (KD, reverse KL, TVD,
     * JSD, DKD or LTKD, not standardized, on a dense teacher, both inputs off-heap), or -1.
     */
    static int pairTerm(Batch b) {
        if (!b.denseTeacher() || b.student.bytes() == null || b.teacher.bytes() == null) {
            return -1;
        }
        for (int i = 0; i < b.terms.length; i++) {
            if (b.terms[i].standardize()) {
                continue;
            }
            switch (b.terms[i].kind()) {
                case SOFT_TARGET_KL, REVERSE_KL, TOTAL_VARIATION, GENERALIZED_JSD, DKD, LTKD -> {
                    return i;
                }
                default -> {
                }
            }
        }
        return -1;
    }

    /**
     * The first top-k term ({@code SparseTopKKl}, {@code SparseTopKTvd}) of a batch with a top-k teacher
     * and an off-heap student, whose student exponentials {@link VectorSingleLoad#loadStudent} can compute;
     * or -1.
     */
    static int sparseTerm(Batch b) {
        if (b.topK == 0 || b.student.bytes() == null) {
            return -1;
        }
        for (int i = 0; i < b.terms.length; i++) {
            switch (b.terms[i].kind()) {
                case SPARSE_TOP_K_KL, SPARSE_TOP_K_TVD -> {
                    return i;
                }
                default -> {
                }
            }
        }
        return -1;
    }

    /**
     * Reads row {@code row} of both inputs and computes the exponentials and sums of pair term
     * {@code pair} ({@link #pairTerm}) at its temperature into {@code k.p}, {@code k.q} and {@code k.sums},
     * shifted by the guesses {@code k.guessS} and {@code k.guessT}; leaves the rows' maxima in
     * {@code k.maxS} and {@code k.maxT}. A non-finite value is an error naming the input, the row and the
     * class (the student's first, as the separate load pass does). With {@code ex >= 0} (DKD's target) that
     * class is left out of the guesses and the sums and its exponentials are 0, as
     * {@link VectorRowKernel#pairExps} does for an excluded class; the bound then applies to the maxima of
     * the other classes when the rows are copied, else to the rows' maxima, which bound them from above
     * (the target's block is read again from the batch's buffers for its sums). The rows are copied into
     * {@code k.t} and {@code k.s} only when a term of the batch reads them there ({@link LoadedRows});
     * otherwise they are copied only for a non-finite value's scan or when the exponentials do not stand.
     *
     * @return whether the exponentials stand; if not, the caller recomputes them with the maxima
     */
    static boolean load(VectorRowKernel k, Batch b, int row, int c, int pair, int ex) {
        float inv = (float) (1 / b.terms[pair].temperature());
        ByteBuffer sb = b.student.bytes();
        ByteBuffer tb = b.teacher.bytes();
        int st = b.student.start(row);
        int tt = b.teacher.start(row);
        int blocks = blockSums(k, c);
        float gs = guess(sb, st, c, ex);
        float gt = guess(tb, tt, c, ex);
        boolean keep = LoadedRows.readRows(b, pair);
        k.lazy.prepare(k.q); // a held gradient's added classes, before the loop overwrites q
        boolean bounded = VectorPairLanes.both(k, b, tb, tt, sb, st, c, gt, gs, inv, ex, keep);
        k.lazy.writeAdded(k.flushTo, k.flushAt);
        k.loaded.set(b, row, keep);
        float mt = k.maxT;
        float ms = k.maxS;
        if (k.loadedCheck != 0f) {
            k.loaded.fill(k.t, k.s);
            Kernels.rejectNonFinite(k.s, c, "student_logits", row);
            Kernels.rejectNonFinite(k.t, c, "teacher_logits", row);
        }
        k.guessS = gs;
        k.guessT = gt;
        float boundS = ms;
        float boundT = mt;
        if (ex >= 0) {
            k.p[ex] = 0f;
            k.q[ex] = 0f;
            int up = S.loopBound(c);
            if (ex < up) {
                int j0 = ex / RowKernel.BLOCK * RowKernel.BLOCK;
                int end = Math.min(up, j0 + RowKernel.BLOCK);
                int at = 4 * (ex / RowKernel.BLOCK);
                if (keep) {
                    blockPairSums(k, j0, end, gt, gs, k.blockSums, at);
                } else {
                    blockPairSums(k, j0, end, gt, gs, k.blockSums, at, tb, tt, sb, st);
                }
            }
            if (keep) {
                boundS = ms == k.s[ex] ? VectorSums.maxExcept(k.s, c, ex) : ms;
                boundT = mt == k.t[ex] ? VectorSums.maxExcept(k.t, c, ex) : mt;
            } // else the rows' maxima bound the other classes' (LoadedRows)
        }
        double[] sums = k.sums;
        java.util.Arrays.fill(sums, 0.0);
        for (int i = 0; i <= blocks; i++) {
            for (int m = 0; m < 4; m++) {
                sums[m] += k.blockSums[4 * i + m];
            }
        }
        boolean fits = fits(boundT, gt, inv) && fits(boundS, gs, inv);
        if (!fits) {
            k.loaded.fill(k.t, k.s); // the terms take their exponentials from the row buffers again
            if (bounded) { // that loop left the guesses (and the tail) in place of the maxima
                k.maxT = VectorSums.max(k.t, c);
                k.maxS = VectorSums.max(k.s, c);
            }
        }
        return fits;
    }

    /** Makes {@code k.blockSums} hold 4 sums per block of {@code c} classes and the tail; returns the block count. */
    static int blockSums(VectorRowKernel k, int c) {
        int blocks = (S.loopBound(c) + RowKernel.BLOCK - 1) / RowKernel.BLOCK;
        if (k.blockSums.length < 4 * (blocks + 1)) {
            k.blockSums = new double[4 * (blocks + 1)];
        }
        return blocks;
    }

    /**
     * Copies a row into {@code dst} (vector loads straight from the off-heap buffer when there is one)
     * and returns its maximum; a non-finite value anywhere in the row is an error naming it.
     *
     * <p>The maximum is kept with {@link VectorRowKernel#larger}: {@code FloatVector.max/min}, used before,
     * have Java's NaN and signed-zero rules, which C2 builds from five instructions per call on AVX2
     * machines. Finiteness is checked by adding up the values themselves ({@link #nonFinite}): one
     * addition per vector, where {@code v - v} took two.
     */
    static float copy(DenseRows rows, int row, float[] dst, int c, String name) {
        int up = S.loopBound(c);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector nonFinite = FloatVector.zero(S);
        ByteBuffer bytes = rows.bytes();
        float[] array = rows.array();
        int at = rows.start(row);
        int j = 0;
        if (bytes != null) {
            for (; j < up; j += L) {
                FloatVector v = FloatVector.fromByteBuffer(S, bytes, 4 * (at + j), ORDER);
                v.intoArray(dst, j);
                vmax = VectorRowKernel.larger(vmax, v);
                nonFinite = nonFinite.add(v);
            }
            for (; j < c; j++) {
                dst[j] = bytes.getFloat(4 * (at + j));
            }
        } else if (array != null) {
            for (; j < up; j += L) {
                FloatVector v = FloatVector.fromArray(S, array, at + j);
                v.intoArray(dst, j);
                vmax = VectorRowKernel.larger(vmax, v);
                nonFinite = nonFinite.add(v);
            }
            System.arraycopy(array, at + up, dst, up, c - up);
        } else {
            rows.read(row, dst);
            for (; j < up; j += L) {
                FloatVector v = FloatVector.fromArray(S, dst, j);
                vmax = VectorRowKernel.larger(vmax, v);
                nonFinite = nonFinite.add(v);
            }
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        float check = nonFinite(nonFinite.reduceLanes(VectorOperators.ADD));
        for (j = up; j < c; j++) {
            max = Math.max(max, dst[j]);
            check += dst[j] - dst[j];
        }
        if (check != 0f) {
            Kernels.rejectNonFinite(dst, c, name, row);
        }
        return max;
    }

    /**
     * The sums of {@link VectorRowKernel#pairExps} over {@code [j0, end)} from {@code k}'s row buffers, into
     * {@code out[at..at+4)}: {@code Σ p}, {@code Σ q}, {@code Σ p(t - s)}, {@code -Σ q(t - s)}, the last two
     * over the logits relative to the shifts {@code ft} and {@code fs} of the exponentials, with
     * {@code (ft - fs) Σ p} (or {@code Σ q}) added in double ({@link VectorPairLanes}).
     */
    static void blockPairSums(VectorRowKernel k, int j0, int end, float ft, float fs, double[] out, int at) {
        blockPairSums(k, j0, end, ft, fs, out, at, null, 0, null, 0);
    }

    /**
     * {@link #blockPairSums} with the logits read from the batch's buffers {@code tb} and {@code sb} at
     * {@code tt} and {@code st} (null: from the row buffers).
     */
    static void blockPairSums(VectorRowKernel k, int j0, int end, float ft, float fs, double[] out, int at,
                              ByteBuffer tb, int tt, ByteBuffer sb, int st) {
        float[] s = k.s;
        float[] t = k.t;
        float[] p = k.p;
        float[] q = k.q;
        FloatVector vft = FloatVector.broadcast(S, ft);
        FloatVector vfs = FloatVector.broadcast(S, fs);
        FloatVector azt = FloatVector.zero(S);
        FloatVector azs = FloatVector.zero(S);
        FloatVector apd = FloatVector.zero(S);
        FloatVector aqd = FloatVector.zero(S);
        for (int j = j0; j < end; j += L) {
            FloatVector a = FloatVector.fromArray(S, p, j);
            FloatVector b = FloatVector.fromArray(S, q, j);
            FloatVector tv = tb == null ? FloatVector.fromArray(S, t, j)
                    : FloatVector.fromByteBuffer(S, tb, 4 * (tt + j), ORDER);
            FloatVector sv = tb == null ? FloatVector.fromArray(S, s, j)
                    : FloatVector.fromByteBuffer(S, sb, 4 * (st + j), ORDER);
            FloatVector d = tv.sub(vft).sub(sv.sub(vfs));
            azt = azt.add(a);
            azs = azs.add(b);
            apd = a.fma(d, apd);
            aqd = b.fma(d, aqd);
        }
        float zt = azt.reduceLanes(VectorOperators.ADD);
        float zs = azs.reduceLanes(VectorOperators.ADD);
        double delta = (double) ft - fs;
        out[at] = zt;
        out[at + 1] = zs;
        out[at + 2] = apd.reduceLanes(VectorOperators.ADD) + delta * zt;
        out[at + 3] = -(aqd.reduceLanes(VectorOperators.ADD) + delta * zs);
    }

    /**
     * The guessed shift of a row: the largest of its first {@value #GUESS_VALUES} values other than class
     * {@code ex} (-1: none).
     */
    static float guess(ByteBuffer bytes, int at, int c, int ex) {
        float g = Float.NEGATIVE_INFINITY;
        for (int j = 0, n = Math.min(c, GUESS_VALUES + 1); j < n; j++) {
            if (j != ex && (j < GUESS_VALUES || (ex >= 0 && ex < GUESS_VALUES))) {
                g = Math.max(g, bytes.getFloat(4 * (at + j)));
            }
        }
        return g;
    }

    /**
     * The reference logit of a copied row for the sums of {@code t - s} ({@link VectorRowKernel#pairExps}):
     * the largest of its first {@value #GUESS_VALUES} values, as the load pass's guess, whose differences the
     * load pass uses. Any finite value gives the same sums in exact arithmetic; in float, one near the row's
     * values keeps {@code (t - rt) - (s - rs)} small, where the row maximum may stand far above them.
     */
    static float reference(float[] x, int c) {
        float r = Float.NEGATIVE_INFINITY;
        for (int j = 0, n = Math.min(c, GUESS_VALUES); j < n; j++) {
            r = Math.max(r, x[j]);
        }
        return r;
    }

    /** Whether the exponentials shifted by {@code g} can stand for those shifted by the maximum. */
    static boolean fits(float max, float g, float inv) {
        return (max - g) * (double) inv <= SHIFT_LIMIT;
    }

    /**
     * {@link #copy}, and into {@code out[at]} the row's {@code Σ (x - x[0])} as {@link VectorSums#sumAround}
     * adds it up (float lanes per block, in double across blocks), for a standardized term's mean
     * ({@link VectorStandardized}): for an off-heap row the sum is taken in the copy's loop, whose time is the
     * reading of the row, instead of in a pass of its own over the row buffer; other rows are copied, then
     * summed. Its own loop, so that {@link #copy}'s stays as C2 compiles it for every other objective; the
     * maximum per block, as the sum (a maximum carried across the blocks, or a loop choosing its source per
     * vector, C2 boxed: the loop then took about twice the time of the copy and a pass for the sum).
     */
    static float copyCentred(DenseRows rows, int row, float[] dst, int c, String name, double[] out, int at) {
        ByteBuffer bytes = rows.bytes();
        if (bytes == null) {
            float max = copy(rows, row, dst, c, name);
            out[at] = VectorSums.sumAround(dst, c, dst[0]);
            return max;
        }
        int start = rows.start(row);
        float x0 = bytes.getFloat(4 * start);
        int up = S.loopBound(c);
        FloatVector vp = FloatVector.broadcast(S, x0);
        float max = Float.NEGATIVE_INFINITY;
        double sum = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector a = FloatVector.zero(S);
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = j0; j < end; j += L) {
                FloatVector v = FloatVector.fromByteBuffer(S, bytes, 4 * (start + j), ORDER);
                v.intoArray(dst, j);
                vmax = VectorRowKernel.larger(vmax, v);
                a = a.add(v.sub(vp));
            }
            sum += a.reduceLanes(VectorOperators.ADD);
            max = Math.max(max, vmax.reduceLanes(VectorOperators.MAX));
        }
        for (int j = up; j < c; j++) {
            float v = bytes.getFloat(4 * (start + j));
            dst[j] = v;
            max = Math.max(max, v);
            sum += v - x0;
        }
        // a non-finite value leaves the sum non-finite (as copy's sum of the values)
        if (!Double.isFinite(sum)) {
            Kernels.rejectNonFinite(dst, c, name, row);
        }
        out[at] = sum;
        return max;
    }

    /**
     * 0 for a finite {@code sum}, NaN for ±inf or NaN: the finiteness check of a loop that adds up values
     * in which any ±inf or NaN input leaves a non-finite sum (a sum of the inputs, or {@link VectorPairLanes}'s
     * {@code Σ p(t - s)}: a non-finite {@code t} or {@code s} makes {@code t - s} non-finite, and so every
     * product {@code p (t - s)}, {@code 0 · inf} included). Finite inputs can also give a non-finite sum
     * (it overflows); the caller's scan of the row then finds no bad value and goes on, so this costs a
     * scan, never a wrong error.
     */
    static float nonFinite(float sum) {
        return sum * 0f;
    }
}
