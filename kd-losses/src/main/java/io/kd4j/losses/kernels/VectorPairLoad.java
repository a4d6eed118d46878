package io.kd4j.losses.kernels;

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
 * one loop, side by side ({@link #both}): on a 2-core Xeon with 512-bit vectors one core reads two
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
     * the other classes. The rows are copied into {@code k.t} and {@code k.s} only when a term of the batch
     * reads them there ({@link LoadedRows}); otherwise they are copied only for a non-finite value's scan
     * or when the exponentials do not stand.
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
        boolean keep = LoadedRows.readRows(b, pair); // DKD (ex >= 0) reads both rows
        k.lazy.prepare(k.q); // a held gradient's added classes, before both() overwrites q
        both(k, tb, tt, sb, st, c, gt, gs, inv, ex, keep);
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
                blockPairSums(k, j0, Math.min(up, j0 + RowKernel.BLOCK), k.blockSums, 4 * (ex / RowKernel.BLOCK));
            }
            boundS = ms == k.s[ex] ? othersMax(k.s, c, ex) : ms;
            boundT = mt == k.t[ex] ? othersMax(k.t, c, ex) : mt;
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
     * {@code out[at..at+4)}: {@code Σ p}, {@code Σ q}, {@code Σ p(t - s)}, {@code -Σ q(t - s)}.
     */
    static void blockPairSums(VectorRowKernel k, int j0, int end, double[] out, int at) {
        float[] s = k.s;
        float[] t = k.t;
        float[] p = k.p;
        float[] q = k.q;
        FloatVector azt = FloatVector.zero(S);
        FloatVector azs = FloatVector.zero(S);
        FloatVector apd = FloatVector.zero(S);
        FloatVector aqd = FloatVector.zero(S);
        for (int j = j0; j < end; j += L) {
            FloatVector a = FloatVector.fromArray(S, p, j);
            FloatVector b = FloatVector.fromArray(S, q, j);
            FloatVector d = FloatVector.fromArray(S, t, j).sub(FloatVector.fromArray(S, s, j));
            azt = azt.add(a);
            azs = azs.add(b);
            apd = a.fma(d, apd);
            aqd = b.fma(d, aqd);
        }
        out[at] = azt.reduceLanes(VectorOperators.ADD);
        out[at + 1] = azs.reduceLanes(VectorOperators.ADD);
        out[at + 2] = apd.reduceLanes(VectorOperators.ADD);
        out[at + 3] = -aqd.reduceLanes(VectorOperators.ADD);
    }

    /** The largest value of {@code x[0, c)} other than at class {@code ex}. */
    private static float othersMax(float[] x, int c, int ex) {
        float v = x[ex];
        x[ex] = Float.NEGATIVE_INFINITY;
        float m = VectorRowKernel.max(x, c);
        x[ex] = v;
        return m;
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

    /** Whether the exponentials shifted by {@code g} can stand for those shifted by the maximum. */
    static boolean fits(float max, float g, float inv) {
        return (max - g) * (double) inv <= SHIFT_LIMIT;
    }

    /**
     * 0 for a finite {@code sum}, NaN for ±inf or NaN: the finiteness check of a loop that adds up values
     * in which any ±inf or NaN input leaves a non-finite sum (a sum of the inputs, or {@link #both}'s
     * {@code Σ p(t - s)}: a non-finite {@code t} or {@code s} makes {@code t - s} non-finite, and so every
     * product {@code p (t - s)}, {@code 0 · inf} included). Finite inputs can also give a non-finite sum
     * (it overflows); the caller's scan of the row then finds no bad value and goes on, so this costs a
     * scan, never a wrong error.
     */
    static float nonFinite(float sum) {
        return sum * 0f;
    }

    /**
     * Both rows in one loop, read side by side: as {@link VectorSingleLoad}'s one-row loop on the teacher
     * row into {@code k.t} and {@code k.p} and on the student row into {@code k.s} and {@code k.q}, class
     * {@code ex} left out of the scalar tail's exponentials (a vector-part {@code ex} is handled by the
     * caller). Per block, slots 0 to 3 of {@code k.blockSums} get {@code Σ p}, {@code Σ q},
     * {@code Σ p(t - s)} and {@code -Σ q(t - s)}. Leaves the maxima in {@code k.maxT} and {@code k.maxS}
     * and one finiteness sum for both rows in {@code k.loadedCheck}: {@link #nonFinite} of
     * {@code Σ p(t - s)}, with no work of its own in the loop (when it is not 0 the caller scans the rows
     * and names the student's first non-finite value, else the teacher's). The rows themselves go to
     * {@code k.t} and {@code k.s} only with {@code keep} (the scalar tail always): {@link LoadedRows} says
     * which terms read them. With {@code k.flushTo} set, the loop also writes the previous row's gradient
     * there: {@code k.g}, or the formula {@code k.lazy} holds, read from {@code k.q} and its {@code x} at
     * each class before the class's new exponentials are stored ({@link #load} writes the formula's added
     * classes, evaluated before this loop, after it). With {@code k.loadPower = n > 0} it also adds up
     * {@code Σ q^n} of the new student exponentials into {@code k.powerSum}, for the cross-entropy that
     * takes its exponentials as {@code q^n} ({@link VectorCrossEntropyTerm#fromPowers}). With
     * {@code k.loadDiff} it stores {@code q (t - s)} into {@code k.u}, reverse KL's {@code x}
     * ({@link VectorKlTerms#storesDiff}), after the previous row's gradient has read {@code u} at the class.
     */
    private static void both(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt,
                             float gs, float inv, int ex, boolean keep) {
        float[] s = k.s;
        float[] q = k.q;
        float[] t = k.t;
        float[] p = k.p;
        float[] g = k.g;
        ByteBuffer gb = k.flushTo;
        int ga = k.flushAt;
        // the previous row's gradient: g, or its formula over q and x read before this row's stores
        LazyGradient lazy = k.lazy;
        boolean held = lazy.active;
        float[] fq = held ? q : g;
        int[] lazyGroups = held ? lazy.blockGroup : null;
        int pn = held ? lazy.n : 0;
        FloatVector vkn = FloatVector.broadcast(S, held ? lazy.kn : 0f);
        FloatVector voff = FloatVector.broadcast(S, held ? lazy.off : 0f);
        // a cross-entropy's Σ q^n, taken from this row's student exponentials; reverse KL's q (t - s)
        int cn = k.loadPower;
        float[] u = k.loadDiff ? k.u : null;
        double zn = 0;
        double[] blockSums = k.blockSums;
        int up = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vgt = FloatVector.broadcast(S, gt);
        FloatVector vgs = FloatVector.broadcast(S, gs);
        float maxT = Float.NEGATIVE_INFINITY;
        float maxS = Float.NEGATIVE_INFINITY;
        float check = 0f;
        int block = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK, block++) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            // the formula's x and constants in this block: LTKD's per group, or the row buffer g (-1)
            int gi = lazyGroups == null ? 3 : lazyGroups[block];
            float[] fx = !held || gi < 0 ? g : lazy.x;
            float bkq = !held ? 1f : gi == 3 ? lazy.kq : gi < 0 ? 0f : lazy.groupKq[gi];
            float bkx = !held ? 0f : gi == 3 ? lazy.kx : gi < 0 ? 1f : lazy.groupKx[gi];
            FloatVector mxt = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            FloatVector mxs = mxt;
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector apd = FloatVector.zero(S);
            FloatVector aqd = FloatVector.zero(S);
            FloatVector azn = FloatVector.zero(S);
            FloatVector vkq = FloatVector.broadcast(S, bkq);
            FloatVector vkx = FloatVector.broadcast(S, bkx);
            for (int j = j0; j < end; j += L) {
                FloatVector w = FloatVector.fromByteBuffer(S, tb, 4 * (tt + j), ORDER);
                FloatVector v = FloatVector.fromByteBuffer(S, sb, 4 * (st + j), ORDER);
                if (keep) {
                    w.intoArray(t, j);
                    v.intoArray(s, j);
                }
                mxt = VectorRowKernel.larger(mxt, w);
                mxs = VectorRowKernel.larger(mxs, v);
                FloatVector a = VectorExp.expShifted(w.sub(vgt), vinv, vil);
                FloatVector e = VectorExp.expShifted(v.sub(vgs), vinv, vil);
                if (gb != null) {
                    FloatVector o;
                    if (pn > 0) {
                        // as VectorCrossEntropyTerm.fromPowers's gradient pass: kx x + (kn q^n + (kq q + off))
                        // VectorCrossEntropyTerm.power written out: in this loop C2 stops inlining this
                        // project's methods (NodeCountInliningCutoff), not the Vector API's
                        FloatVector qv = FloatVector.fromArray(S, fq, j);
                        FloatVector q2 = qv.mul(qv);
                        FloatVector q4 = q2.mul(q2);
                        FloatVector qn = pn == 1 ? qv : pn == 2 ? q2 : pn == 3 ? q2.mul(qv) : pn == 4 ? q4
                                : pn == 5 ? q4.mul(qv) : pn == 6 ? q4.mul(q2)
                                : pn == 7 ? q4.mul(q2).mul(qv) : q4.mul(q4);
                        o = FloatVector.fromArray(S, fx, j).fma(vkx, qn.fma(vkn, qv.fma(vkq, voff)));
                    } else {
                        o = held ? FloatVector.fromArray(S, fx, j).fma(vkx, FloatVector.fromArray(S, fq, j).mul(vkq))
                                : FloatVector.fromArray(S, g, j);
                    }
                    o.intoByteBuffer(gb, 4 * (ga + j), ORDER);
                }
                FloatVector d = w.sub(v);
                if (u != null) {
                    e.mul(d).intoArray(u, j);
                }
                a.intoArray(p, j);
                e.intoArray(q, j);
                if (cn > 0) {
                    FloatVector e2 = e.mul(e);
                    FloatVector e4 = e2.mul(e2);
                    azn = azn.add(cn == 1 ? e : cn == 2 ? e2 : cn == 3 ? e2.mul(e) : cn == 4 ? e4
                            : cn == 5 ? e4.mul(e) : cn == 6 ? e4.mul(e2) : cn == 7 ? e4.mul(e2).mul(e) : e4.mul(e4));
                }
                azt = azt.add(a);
                azs = azs.add(e);
                apd = a.fma(d, apd);
                aqd = e.fma(d, aqd);
            }
            blockSums[4 * block] = azt.reduceLanes(VectorOperators.ADD);
            blockSums[4 * block + 1] = azs.reduceLanes(VectorOperators.ADD);
            float pd = apd.reduceLanes(VectorOperators.ADD);
            blockSums[4 * block + 2] = pd;
            blockSums[4 * block + 3] = -aqd.reduceLanes(VectorOperators.ADD);
            maxT = Math.max(maxT, mxt.reduceLanes(VectorOperators.MAX));
            maxS = Math.max(maxS, mxs.reduceLanes(VectorOperators.MAX));
            check += nonFinite(pd);
            zn += azn.reduceLanes(VectorOperators.ADD);
        }
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double qd = 0;
        for (int j = up; j < c; j++) {
            if (gb != null) {
                gb.putFloat(4 * (ga + j), held ? lazy.base(q, j) : g[j]);
            }
            float w = tb.getFloat(4 * (tt + j));
            float v = sb.getFloat(4 * (st + j));
            t[j] = w;
            s[j] = v;
            maxT = Math.max(maxT, w);
            maxS = Math.max(maxS, v);
            check += (w - w) + (v - v);
            float a = j == ex ? 0f : VectorRowKernel.exp((w - gt) * inv);
            float e = j == ex ? 0f : VectorRowKernel.exp((v - gs) * inv);
            p[j] = a;
            q[j] = e;
            zn += cn > 0 ? VectorCrossEntropyTerm.power(e, cn) : 0f;
            zt += a;
            zs += e;
            double d = (double) w - v;
            pd += a * d;
            qd -= e * d;
            if (u != null) {
                u[j] = (float) (e * d);
            }
        }
        blockSums[4 * block] = zt;
        blockSums[4 * block + 1] = zs;
        blockSums[4 * block + 2] = pd;
        blockSums[4 * block + 3] = qd;
        k.maxT = maxT;
        k.maxS = maxS;
        k.loadedCheck = check;
        k.powerSum = zn;
    }
}
