package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loops of {@link VectorPairLoad}: both rows in one loop, read side by side, as
 * {@link VectorSingleLoad}'s one-row loop on the teacher row into {@code k.t} and {@code k.p} and on the
 * student row into {@code k.s} and {@code k.q}, class {@code ex} left out of the scalar tail's
 * exponentials (a vector-part {@code ex} is handled by the caller). Per block, slots 0 to 3 of
 * {@code k.blockSums} get {@code Σ p}, {@code Σ q}, {@code Σ p(t - s)} and {@code -Σ q(t - s)}; the last two
 * are added up in float lanes over {@code d = (t - gt) - (s - gs)}, the logits relative to the guesses, and
 * {@code (gt - gs) Σ p} (or {@code Σ q}) is added in double: over {@code t - s} itself, rows thousands of
 * logits apart would lose the value to float rounding before their offsets cancel (FarApartRowsTest). That
 * {@code gt - gs} is taken after each block's loop from the broadcast guesses: held in a double across the
 * loop it cost KD 1.05 times its time (docs/performance-log.md, "Kernel CPU time", eleventh round). Leaves the
 * maxima in {@code k.maxT} and {@code k.maxS} and one finiteness sum for both rows in
 * {@code k.loadedCheck}: {@link VectorPairLoad#nonFinite} of {@code Σ p(t - s)}, with no work of its own
 * in the loop (when it is not 0 the caller scans the rows and names the student's first non-finite value,
 * else the teacher's). The rows themselves go to {@code k.t} and {@code k.s} only with {@code keep} (the
 * scalar tail always): {@link LoadedRows} says which terms read them. With {@code k.flushTo} set, the loop
 * also writes the previous row's gradient there: {@code k.g}, or the formula {@code k.lazy} holds, read
 * from {@code k.q} and its {@code x} at each class before the class's new exponentials are stored
 * ({@link VectorPairLoad#load} writes the formula's added classes, evaluated before this loop, after it).
 * With {@code k.loadPower = n > 0} it also adds up {@code Σ q^n} of the new student exponentials into
 * {@code k.powerSum}, for the cross-entropy that takes its exponentials as {@code q^n}
 * ({@link VectorCrossEntropyTerm#fromPowers}), and with {@code k.loadSum} the student's logits into
 * {@code k.studentSum}, for that cross-entropy's label smoothing. With {@code k.loadDiff} it stores
 * {@code q d} into {@code k.u}, reverse KL's {@code x} ({@link VectorKlTerms#storesDiff}), after the
 * previous row's gradient has read {@code u} at the class.
 *
 * <p><b>Loops by kind of objective</b> ({@link #plain}: a pair term beside other terms;
 * {@link VectorBoundedLanes#plain}: a pair term alone, without the rows' maxima;
 * {@link VectorBoundedLanes#diff}: reverse KL or the JSD at β = 1 alone, {@link VectorKlTerms#storesDiff};
 * {@link #powers}: a cross-entropy with KD, or with label smoothing beside KD or DKD), each a method of its own, though
 * {@link #powers} alone could run them all. C2 compiles a method from its own branch profile and leaves
 * out the branches that never ran; in one loop shared by every objective, a JVM that had also run reverse
 * KL or a cross-entropy with KD compiled their branches into KD's loop, and the kernels took 1.3 to 2.8
 * times as long as in a JVM of their own, KD 2.0 times (docs/performance-log.md, "Kernel CPU time").
 */
final class VectorPairLanes {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final int L = VectorRowKernel.L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorPairLanes() {
    }

    /**
     * Both rows in one loop, the one for the kind of objective of batch {@code b} that {@code k} is set up
     * for, then the scalar tail.
     *
     * @return whether the loop was one of {@link VectorBoundedLanes}', which leave the guesses (or +inf) in
     *         place of the rows' maxima
     */
    static boolean both(VectorRowKernel k, Batch b, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c,
                        float gt, float gs, float inv, int ex, boolean keep) {
        boolean bounded = false;
        if (k.loadPower > 0 || k.loadSum || (k.lazy.active && k.lazy.n > 0)) {
            powers(k, tb, tt, sb, st, c, gt, gs, inv, keep);
        } else if (k.loadDiff) { // one term (VectorKlTerms.storesDiff)
            bounded = true;
            VectorBoundedLanes.diff(k, tb, tt, sb, st, c, gt, gs, inv, keep);
        } else if (VectorBoundedLanes.use(b)) {
            bounded = true;
            VectorBoundedLanes.plain(k, tb, tt, sb, st, c, gt, gs, inv, keep);
        } else {
            plain(k, tb, tt, sb, st, c, gt, gs, inv, keep);
        }
        tail(k, tb, tt, sb, st, c, gt, gs, inv, ex);
        return bounded;
    }

    /** The loop without a cross-entropy's powers and without reverse KL's {@code q (t - s)}. */
    private static void plain(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt,
                              float gs, float inv, boolean keep) {
        float[] s = k.s;
        float[] q = k.q;
        float[] t = k.t;
        float[] p = k.p;
        float[] g = k.g;
        ByteBuffer gb = k.flushTo;
        int ga = k.flushAt;
        LazyGradient lazy = k.lazy;
        boolean held = lazy.active;
        float[] fq = held ? q : g;
        int[] lazyGroups = held ? lazy.blockGroup : null;
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
            FloatVector vkq = FloatVector.broadcast(S, !held ? 1f : gi == 3 ? lazy.kq : gi < 0 ? 0f : lazy.groupKq[gi]);
            FloatVector vkx = FloatVector.broadcast(S, !held ? 0f : gi == 3 ? lazy.kx : gi < 0 ? 1f : lazy.groupKx[gi]);
            FloatVector mxt = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            FloatVector mxs = mxt;
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector apd = FloatVector.zero(S);
            FloatVector aqd = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector w = FloatVector.fromByteBuffer(S, tb, 4 * (tt + j), ORDER);
                FloatVector v = FloatVector.fromByteBuffer(S, sb, 4 * (st + j), ORDER);
                if (keep) {
                    w.intoArray(t, j);
                    v.intoArray(s, j);
                }
                mxt = VectorRowKernel.larger(mxt, w);
                mxs = VectorRowKernel.larger(mxs, v);
                FloatVector wg = w.sub(vgt);
                FloatVector vg = v.sub(vgs);
                FloatVector a = VectorExp.expShifted(wg, vinv, vil);
                FloatVector e = VectorExp.expShifted(vg, vinv, vil);
                if (gb != null) {
                    FloatVector o = held
                            ? FloatVector.fromArray(S, fx, j).fma(vkx, FloatVector.fromArray(S, fq, j).mul(vkq))
                            : FloatVector.fromArray(S, g, j);
                    o.intoByteBuffer(gb, 4 * (ga + j), ORDER);
                }
                FloatVector d = wg.sub(vg); // t - s relative to the guesses
                a.intoArray(p, j);
                e.intoArray(q, j);
                azt = azt.add(a);
                azs = azs.add(e);
                apd = a.fma(d, apd);
                aqd = e.fma(d, aqd);
            }
            float zt = azt.reduceLanes(VectorOperators.ADD);
            float zs = azs.reduceLanes(VectorOperators.ADD);
            float pd = apd.reduceLanes(VectorOperators.ADD);
            double delta = (double) vgt.lane(0) - vgs.lane(0); // gt - gs, after the loop (class comment)
            blockSums[4 * block] = zt;
            blockSums[4 * block + 1] = zs;
            blockSums[4 * block + 2] = pd + delta * zt;
            blockSums[4 * block + 3] = -(aqd.reduceLanes(VectorOperators.ADD) + delta * zs);
            check += VectorPairLoad.nonFinite(pd);
            maxT = Math.max(maxT, mxt.reduceLanes(VectorOperators.MAX));
            maxS = Math.max(maxS, mxs.reduceLanes(VectorOperators.MAX));
        }
        k.maxT = maxT;
        k.maxS = maxS;
        k.loadedCheck = check;
        k.powerSum = 0;
        k.studentSum = 0;
    }

    /**
     * The loop for every kind of objective: with {@code k.loadPower > 0}, or a held formula with a power,
     * the cross-entropy's {@code Σ q^n} and the formula's {@code kn q^n + off}; with {@code k.loadSum} its
     * {@code Σ s}. Reverse KL's {@code q (t - s)} is not among them: it is stored only for an objective of one
     * term ({@link VectorKlTerms#storesDiff}), which this loop never serves.
     */
    private static void powers(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt,
                               float gs, float inv, boolean keep) {
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
        // a cross-entropy's Σ q^n, taken from this row's student exponentials
        int cn = k.loadPower;
        double zn = 0;
        // a cross-entropy's Σ s, for its label smoothing
        boolean sums = k.loadSum;
        double rowSum = 0;
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
            FloatVector avs = FloatVector.zero(S);
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
                if (sums) {
                    avs = avs.add(v);
                }
                FloatVector wg = w.sub(vgt);
                FloatVector vg = v.sub(vgs);
                FloatVector a = VectorExp.expShifted(wg, vinv, vil);
                FloatVector e = VectorExp.expShifted(vg, vinv, vil);
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
                FloatVector d = wg.sub(vg); // t - s relative to the guesses
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
            float zt = azt.reduceLanes(VectorOperators.ADD);
            float zs = azs.reduceLanes(VectorOperators.ADD);
            float pd = apd.reduceLanes(VectorOperators.ADD);
            double delta = (double) vgt.lane(0) - vgs.lane(0); // gt - gs, after the loop (class comment)
            blockSums[4 * block] = zt;
            blockSums[4 * block + 1] = zs;
            blockSums[4 * block + 2] = pd + delta * zt;
            blockSums[4 * block + 3] = -(aqd.reduceLanes(VectorOperators.ADD) + delta * zs);
            check += VectorPairLoad.nonFinite(pd);
            maxT = Math.max(maxT, mxt.reduceLanes(VectorOperators.MAX));
            maxS = Math.max(maxS, mxs.reduceLanes(VectorOperators.MAX));
            zn += azn.reduceLanes(VectorOperators.ADD);
            rowSum += avs.reduceLanes(VectorOperators.ADD);
        }
        k.maxT = maxT;
        k.maxS = maxS;
        k.loadedCheck = check;
        k.powerSum = zn;
        k.studentSum = rowSum;
    }

    /**
     * The scalar tail, classes {@code [loopBound(c), c)}: into the sums of the block after the vector
     * part's, and onto the maxima, the finiteness sum and the power sum the lanes left in {@code k}.
     */
    private static void tail(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt,
                             float gs, float inv, int ex) {
        int block = (S.loopBound(c) + RowKernel.BLOCK - 1) / RowKernel.BLOCK;
        float[] s = k.s;
        float[] q = k.q;
        float[] t = k.t;
        float[] p = k.p;
        float[] g = k.g;
        ByteBuffer gb = k.flushTo;
        int ga = k.flushAt;
        LazyGradient lazy = k.lazy;
        boolean held = lazy.active;
        int cn = k.loadPower;
        float[] u = k.loadDiff ? k.u : null;
        double[] blockSums = k.blockSums;
        float maxT = k.maxT;
        float maxS = k.maxS;
        float check = k.loadedCheck;
        double zn = k.powerSum;
        double rowSum = k.studentSum;
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double qd = 0;
        for (int j = S.loopBound(c); j < c; j++) {
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
            rowSum += v;
            zt += a;
            zs += e;
            double d = ((double) w - gt) - ((double) v - gs);
            pd += a * d;
            qd -= e * d;
            if (u != null) {
                u[j] = (float) (e * d);
            }
        }
        double delta = (double) gt - gs;
        blockSums[4 * block] = zt;
        blockSums[4 * block + 1] = zs;
        blockSums[4 * block + 2] = pd + delta * zt;
        blockSums[4 * block + 3] = qd - delta * zs;
        k.maxT = maxT;
        k.maxS = maxS;
        k.loadedCheck = check;
        k.powerSum = zn;
        k.studentSum = rowSum;
    }
}
