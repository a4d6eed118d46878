package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorPairLanes}' plain and {@code diff} loops without the rows' maxima, for an objective of one
 * term: KD, reverse KL, TVD, the JSD, DKD or LTKD ({@link #use}). There the maxima serve only to decide
 * whether the exponentials shifted by the guesses stand ({@link VectorPairLoad#fits}; LTKD takes its groups'
 * maxima from the rows' copies when it needs them), and tracking them took about a tenth of KD's time (two
 * compares and two blends per 16 classes, and two vector registers in a loop that needs most of them:
 * docs/performance-log.md, "Kernel CPU time", eleventh round). These loops keep instead the largest integer
 * part {@code n} of the exponentials' arguments in {@code log2} units, which the exponential computes anyway
 * ({@link VectorExp#integerPart}, the same expression, so C2 computes it once): one integer maximum per row and
 * vector, one register for both rows. An integer part of at most {@value #LIMIT_LOG2} in every lane means
 * arguments {@code (x - g) / T} below 91.5 · ln 2 = 63.4, within {@link VectorPairLoad#SHIFT_LIMIT}; a row
 * with a larger one, or whose scalar tail goes beyond the limit, falls back as before, with its maxima
 * taken from the rows' copies ({@link VectorPairLoad#load}). For DKD the integer parts include the target
 * class, which the guesses and the bound of the plain loop leave out: a row whose target logit is more than
 * 63.4 T above the guess falls back too (its results do not depend on the path). NaN and infinite values
 * give a non-zero finiteness sum and are reported before that.
 */
final class VectorBoundedLanes {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = VectorRowKernel.L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The largest integer part of {@code arg · log2 e} for which the guessed shifts stand. */
    static final int LIMIT_LOG2 = 91;

    private VectorBoundedLanes() {
    }

    /**
     * Whether the load pass of batch {@code b} runs {@link #plain} or {@link #diff}: an objective of one term
     * (the pair term {@link VectorPairLoad#pairTerm} found), so no cross-entropy's powers or sums.
     */
    static boolean use(Batch b) {
        return b.terms.length == 1;
    }

    /**
     * {@link VectorPairLanes}' plain loop with the exponentials' integer parts in place of the rows' maxima
     * ({@link #use}); leaves the guesses as {@code k.maxT} and {@code k.maxS}, onto which the scalar tail
     * adds its values, or {@code k.maxT = +inf} when an integer part is above {@link #LIMIT_LOG2}, so that
     * {@link VectorPairLoad#fits} fails.
     */
    static void plain(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt, float gs,
                      float inv, boolean keep) {
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
        int bits = Integer.MIN_VALUE;
        float check = 0f;
        int block = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK, block++) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            // the formula's x and constants in this block: LTKD's per group, or the row buffer g (-1)
            int gi = lazyGroups == null ? 3 : lazyGroups[block];
            float[] fx = !held || gi < 0 ? g : lazy.x;
            FloatVector vkq = FloatVector.broadcast(S, !held ? 1f : gi == 3 ? lazy.kq : gi < 0 ? 0f : lazy.groupKq[gi]);
            FloatVector vkx = FloatVector.broadcast(S, !held ? 0f : gi == 3 ? lazy.kx : gi < 0 ? 1f : lazy.groupKx[gi]);
            IntVector mxn = IntVector.broadcast(I, Integer.MIN_VALUE);
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
                FloatVector wg = w.sub(vgt);
                FloatVector vg = v.sub(vgs);
                mxn = mxn.lanewise(VectorOperators.MAX, VectorExp.integerPart(wg, vil))
                        .lanewise(VectorOperators.MAX, VectorExp.integerPart(vg, vil));
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
            double delta = (double) vgt.lane(0) - vgs.lane(0); // gt - gs, after the loop (VectorPairLanes)
            blockSums[4 * block] = zt;
            blockSums[4 * block + 1] = zs;
            blockSums[4 * block + 2] = pd + delta * zt;
            blockSums[4 * block + 3] = -(aqd.reduceLanes(VectorOperators.ADD) + delta * zs);
            check += VectorPairLoad.nonFinite(pd);
            bits = Math.max(bits, mxn.reduceLanes(VectorOperators.MAX));
        }
        // the guesses stand for the maxima, or a maximum of +inf makes VectorPairLoad.fits fail
        k.maxT = VectorExp.integerPartOf(bits) <= LIMIT_LOG2 ? gt : Float.POSITIVE_INFINITY;
        k.maxS = gs;
        k.loadedCheck = check;
        k.powerSum = 0;
        k.studentSum = 0;
    }

    /**
     * {@link #plain} that also stores reverse KL's {@code q (t - s)} into {@code k.u}, after the previous row's
     * gradient has read it, and not the teacher's exponentials into {@code k.p}: reverse KL alone holds its
     * gradient as {@code kq q + kx u} and takes its value from the block sums ({@link VectorKlTerms#reverseKl}),
     * and a row whose exponentials do not stand takes them again from its copies. Three stores per vector
     * were one more than KD's loop has.
     */
    static void diff(VectorRowKernel k, ByteBuffer tb, int tt, ByteBuffer sb, int st, int c, float gt, float gs,
                     float inv, boolean keep) {
        float[] s = k.s;
        float[] q = k.q;
        float[] t = k.t;
        float[] g = k.g;
        float[] u = k.u;
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
        int bits = Integer.MIN_VALUE;
        float check = 0f;
        int block = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK, block++) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            // the formula's x and constants in this block: LTKD's per group, or the row buffer g (-1)
            int gi = lazyGroups == null ? 3 : lazyGroups[block];
            float[] fx = !held || gi < 0 ? g : lazy.x;
            FloatVector vkq = FloatVector.broadcast(S, !held ? 1f : gi == 3 ? lazy.kq : gi < 0 ? 0f : lazy.groupKq[gi]);
            FloatVector vkx = FloatVector.broadcast(S, !held ? 0f : gi == 3 ? lazy.kx : gi < 0 ? 1f : lazy.groupKx[gi]);
            IntVector mxn = IntVector.broadcast(I, Integer.MIN_VALUE);
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector aqd = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector w = FloatVector.fromByteBuffer(S, tb, 4 * (tt + j), ORDER);
                FloatVector v = FloatVector.fromByteBuffer(S, sb, 4 * (st + j), ORDER);
                if (keep) {
                    w.intoArray(t, j);
                    v.intoArray(s, j);
                }
                FloatVector wg = w.sub(vgt);
                FloatVector vg = v.sub(vgs);
                mxn = mxn.lanewise(VectorOperators.MAX, VectorExp.integerPart(wg, vil))
                        .lanewise(VectorOperators.MAX, VectorExp.integerPart(vg, vil));
                FloatVector a = VectorExp.expShifted(wg, vinv, vil);
                FloatVector e = VectorExp.expShifted(vg, vinv, vil);
                if (gb != null) {
                    FloatVector o = held
                            ? FloatVector.fromArray(S, fx, j).fma(vkx, FloatVector.fromArray(S, fq, j).mul(vkq))
                            : FloatVector.fromArray(S, g, j);
                    o.intoByteBuffer(gb, 4 * (ga + j), ORDER);
                }
                FloatVector d = wg.sub(vg); // t - s relative to the guesses
                e.mul(d).intoArray(u, j);
                e.intoArray(q, j); // not p: the held gradient takes q and u, the value the sums
                azt = azt.add(a);
                azs = azs.add(e);
                aqd = e.fma(d, aqd);
            }
            float zt = azt.reduceLanes(VectorOperators.ADD);
            float zs = azs.reduceLanes(VectorOperators.ADD);
            float qd = aqd.reduceLanes(VectorOperators.ADD);
            double delta = (double) vgt.lane(0) - vgs.lane(0); // gt - gs, after the loop (VectorPairLanes)
            blockSums[4 * block] = zt;
            blockSums[4 * block + 1] = zs;
            blockSums[4 * block + 2] = 0; // Σ p (t - s), which reverse KL does not take
            blockSums[4 * block + 3] = -(qd + delta * zs);
            check += VectorPairLoad.nonFinite(qd); // q > 0, so a non-finite t - s makes it non-finite
            bits = Math.max(bits, mxn.reduceLanes(VectorOperators.MAX));
        }
        // the guesses stand for the maxima, or a maximum of +inf makes VectorPairLoad.fits fail
        k.maxT = VectorExp.integerPartOf(bits) <= LIMIT_LOG2 ? gt : Float.POSITIVE_INFINITY;
        k.maxS = gs;
        k.loadedCheck = check;
        k.powerSum = 0;
        k.studentSum = 0;
    }
}
