package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * LTKD ({@link io.kd4j.losses.logit.Ltkd}) in the Vector API kernel (float32 lanes, sums flushed to
 * double per block), on the row buffers of a {@link VectorRowKernel}; loaded only through it. Formulas
 * as {@link ScalarGroupTerms#ltkd}.
 */
final class VectorLtkdTerm {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorLtkdTerm() {
    }

    /** Per-group maxima of {@code x} into {@code out[0..3)} ({@code -inf} for an empty group). */
    private static void groupMax(float[] x, int c, float[] codes, double[] out) {
        int up = S.loopBound(c);
        FloatVector ninf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m0 = ninf;
        FloatVector m1 = ninf;
        FloatVector m2 = ninf;
        for (int j = 0; j < up; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector cv = FloatVector.fromArray(S, codes, j);
            VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
            VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
            m0 = VectorRowKernel.larger(m0, ninf.blend(v, g0));
            m1 = VectorRowKernel.larger(m1, ninf.blend(v, g1));
            m2 = VectorRowKernel.larger(m2, v.blend(ninf, g0.or(g1)));
        }
        out[0] = m0.reduceLanes(VectorOperators.MAX);
        out[1] = m1.reduceLanes(VectorOperators.MAX);
        out[2] = m2.reduceLanes(VectorOperators.MAX);
        for (int j = up; j < c; j++) {
            int gi = (int) codes[j];
            out[gi] = Math.max(out[gi], x[j]);
        }
    }

    /**
     * A vector holding {@code v[g]} in the lanes of group g ({@code g0} and {@code g1} mark the lanes of
     * groups 0 and 1; the other lanes are group 2).
     */
    private static FloatVector byGroup(FloatVector v0, FloatVector v1, FloatVector v2, VectorMask<Float> g0,
                                       VectorMask<Float> g1) {
        return v2.blend(v0, g0).blend(v1, g1);
    }

    /**
     * Per-group unnormalised exps {@code exp((x - max_g) / T)} into {@code dst}, and their per-group sums
     * added to {@code sums}.
     */
    private static void groupExps(float[] x, int c, float[] codes, double[] max, double tau, float[] dst,
                                  double[] sums) {
        int up = S.loopBound(c);
        float inv = (float) (1 / tau);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector x0 = FloatVector.broadcast(S, (float) max[0]);
        FloatVector x1 = FloatVector.broadcast(S, (float) max[1]);
        FloatVector x2 = FloatVector.broadcast(S, (float) max[2]);
        FloatVector zero = FloatVector.zero(S);
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector a0 = zero;
            FloatVector a1 = zero;
            FloatVector a2 = zero;
            for (int j = j0; j < end; j += L) {
                FloatVector cv = FloatVector.fromArray(S, codes, j);
                VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
                VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
                FloatVector e = VectorExp.exp(FloatVector.fromArray(S, x, j).sub(byGroup(x0, x1, x2, g0, g1)),
                        vinv, vil);
                e.intoArray(dst, j);
                a0 = a0.add(zero.blend(e, g0));
                a1 = a1.add(zero.blend(e, g1));
                a2 = a2.add(e.blend(zero, g0.or(g1)));
            }
            sums[0] += a0.reduceLanes(VectorOperators.ADD);
            sums[1] += a1.reduceLanes(VectorOperators.ADD);
            sums[2] += a2.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            int gi = (int) codes[j];
            float e = VectorRowKernel.exp((x[j] - (float) max[gi]) * inv);
            dst[j] = e;
            sums[gi] += e;
        }
    }

    /**
     * LTKD's first pass ({@link RowKernel#groupMasses}): {@code log P_g} of teacher row {@code row} into
     * {@code out[0..3)} and, with {@code next >= 0}, of row {@code next} into {@code out[3..6)}. On an
     * off-heap teacher the load pass computes the exponentials, shifted by the row's guess: of two rows side
     * by side ({@link VectorSingleLoad#loadTeachers}), of one row with {@link VectorSingleLoad#loadTeacher}.
     * A row whose guess is too far below its maximum ({@link VectorPairLoad#fits}), or an on-heap row, takes
     * them from its copy in {@code k.t} with the row maximum.
     */
    static void groupMasses(VectorRowKernel k, Batch b, int row, int next, FusedTerm term, double[] out) {
        int c = b.classes;
        DenseRows teacher = b.teacher;
        if (teacher.bytes() != null && next >= 0) {
            VectorSingleLoad.loadTeachers(k, b, row, next, c, term.temperature(), term.ltkdGroups().blockGroups());
            float inv = (float) (1 / term.temperature());
            // row's exponentials are in p (slot 0), next's in q (slot 1); a fallback overwrites only p
            rowMasses(k, teacher, row, c, k.maxT, k.guessT, inv, k.p, 0, term, out, 0);
            rowMasses(k, teacher, next, c, k.maxS, k.guessS, inv, k.q, 1, term, out, 3);
            return;
        }
        for (int i = 0; i < (next >= 0 ? 2 : 1); i++) {
            int r = i == 0 ? row : next;
            int at = 3 * i;
            if (teacher.bytes() != null && VectorSingleLoad.loadTeacher(k, b, r, c, term.temperature())) {
                teacherGroupMasses(k, teacher, r, c, k.guessT, k.p, 0, term, out, at);
            } else {
                float mt = teacher.bytes() != null ? k.maxT : VectorPairLoad.copy(teacher, r, k.t, c, "teacher_logits");
                teacherGroupMasses(k, teacher, r, c, mt, null, 0, term, out, at);
            }
        }
    }

    /**
     * {@link #teacherGroupMasses} of a row whose exponentials {@link VectorSingleLoad#loadTeachers} left in
     * {@code x} (block sums in {@code slot}), shifted by {@code guess}; if they do not stand ({@code max}
     * fails {@link VectorPairLoad#fits}), from the row's copy in {@code k.t} with the row's maximum.
     */
    private static void rowMasses(VectorRowKernel k, DenseRows teacher, int row, int c, float max, float guess,
                                  float inv, float[] x, int slot, FusedTerm term, double[] out, int at) {
        if (VectorPairLoad.fits(max, guess, inv)) {
            teacherGroupMasses(k, teacher, row, c, guess, x, slot, term, out, at);
        } else {
            teacher.read(row, k.t);
            teacherGroupMasses(k, teacher, row, c, VectorSums.max(k.t, c), null, 0, term, out, at);
        }
    }

    /**
     * {@code log P_g} of teacher row {@code row} into {@code out[at..at+3)}, as {@link ScalarGroupTerms}. The
     * exponentials are shifted by {@code shift} in every group: they are in {@code x} already (their sums per
     * block in slot {@code slot} of {@code k.blockSums}, from a load pass, shifted by its guess), or, with
     * {@code x} null, taken here into {@code k.p} from the row's copy in {@code k.t}, with the row maximum. A
     * group whose sum is too small for one shared shift ({@link #shared}) makes every group take its own
     * maximum, from the row in {@code k.t} (read again when {@code x} is given).
     */
    private static void teacherGroupMasses(VectorRowKernel k, DenseRows teacher, int row, int c, float shift,
                                           float[] x, int slot, FusedTerm term, double[] out, int at) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        double[] m = {shift, shift, shift};
        double[] z = new double[3];
        if (x != null) {
            groupSum(k, x, slot, c, groups.codes(), groups.blockGroups(), z);
        } else {
            groupExps(k.t, c, groups.codes(), m, term.temperature(), k.p, z);
        }
        if (!shared(groups, z, z)) {
            if (x != null) {
                teacher.read(row, k.t);
            }
            groupMax(k.t, c, groups.codes(), m);
            java.util.Arrays.fill(z, 0.0);
            groupExps(k.t, c, groups.codes(), m, term.temperature(), k.p, z);
        }
        double inv = 1 / term.temperature();
        double[] lp = new double[3];
        for (int gi = 0; gi < 3; gi++) {
            lp[gi] = groups.size(gi) == 0 ? Double.NEGATIVE_INFINITY : m[gi] * inv + Math.log(z[gi]);
        }
        double lse = RowKernel.logSumExp3(lp);
        for (int gi = 0; gi < 3; gi++) {
            out[at + gi] = lp[gi] - lse;
        }
    }

    /**
     * Whether the exponential sums {@code za} and {@code zb} of every non-empty group, taken with one shift
     * for all groups, are at least {@link VectorPairLoad#PART_FLOOR} ({@code e^-20}, which bounds how
     * many of a group's small values the shared shift costs). Otherwise the caller shifts each group by
     * its own maximum.
     */
    static boolean shared(FusedTerm.LtkdGroups groups, double[] za, double[] zb) {
        for (int gi = 0; gi < 3; gi++) {
            double floor = VectorPairLoad.PART_FLOOR;
            if (groups.size(gi) > 0 && !(za[gi] >= floor && zb[gi] >= floor)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link io.kd4j.losses.logit.Ltkd}, as {@link ScalarGroupTerms#ltkd}. When {@link VectorPairLoad}
     * computed the exponentials ({@code k.p}, {@code k.q}, shifted by its guesses {@code gs} and
     * {@code gt} in every group), the group sums are taken from them: from that pass's block sums for a
     * block whose classes are all in one group, by one pass over the other blocks. If a group's sums are
     * too small for the shared shift ({@link #shared}), or without the load pass, each group is shifted by
     * its own maxima: two passes for the maxima, two for the exponentials, then one pass for the sums.
     */
    static double ltkd(VectorRowKernel k, int c, float gs, float gt, FusedTerm term, double[] logW, boolean wantGrad,
                       double gw, double[] values, int at) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        float[] codes = groups.codes();
        double tau = term.temperature();
        double[] mt = {gt, gt, gt};
        double[] ms = {gs, gs, gs};
        double[] za = new double[3];
        double[] zb = new double[3];
        double[] d = new double[3];
        boolean preset = k.takePresetSums();
        if (preset) {
            // the load pass copies the rows only for other terms (LoadedRows): else the blocks of more than
            // one group read them from the batch's buffers
            groupSums(k, c, codes, groups.blockGroups(), !k.loaded.copied(), gt, gs, za, zb, d);
        }
        if (!preset || !shared(groups, za, zb)) {
            if (preset) {
                k.loaded.fill(k.t, k.s);
            }
            groupMax(k.t, c, codes, mt);
            groupMax(k.s, c, codes, ms);
            double[] unused = new double[3];
            groupExps(k.t, c, codes, mt, tau, k.p, unused);
            groupExps(k.s, c, codes, ms, tau, k.q, unused);
            java.util.Arrays.fill(za, 0.0);
            java.util.Arrays.fill(zb, 0.0);
            java.util.Arrays.fill(d, 0.0);
            groupSums(k, c, codes, null, false, VectorPairLoad.reference(k.t, c), VectorPairLoad.reference(k.s, c), za,
                    zb, d);
        }
        double[] cq = new double[3];
        double[] cp = new double[3];
        double value = ScalarGroupTerms.ltkdRow(groups, tau, mt, ms, za, zb, d, logW, gw, values, at, cq, cp);
        if (wantGrad) {
            groupGradient(k, c, codes, groups.blockGroups(), cq, cp);
        }
        return value;
    }

    /**
     * Per group: {@code Σ p} into {@code za}, {@code Σ q} into {@code zb} and {@code Σ p (t - s)} into
     * {@code d}, over the exponentials in {@code p} and {@code q}. With {@code pure} (the groups'
     * {@link FusedTerm.LtkdGroups#blockGroups}), a block whose classes are all in one group adds the sums
     * {@link VectorPairLoad#load} took of it ({@code k.blockSums}) instead of reading it again. With
     * {@code direct}, the other blocks read the logits from the batch's buffers ({@link LoadedRows}), not
     * from the row buffers. The other blocks add up {@code p ((t - rt) - (s - rs))} and {@code (rt - rs) Σ p}
     * in double, with the reference logits {@code rt} and {@code rs} (the load pass's guesses, whose block
     * sums the pure blocks take, or {@link VectorPairLoad#reference}): rows far apart keep their precision
     * ({@link VectorPairLanes}).
     */
    private static void groupSums(VectorRowKernel k, int c, float[] codes, int[] pure, boolean direct, float rt,
                                  float rs, double[] za, double[] zb, double[] d) {
        int up = S.loopBound(c);
        double[] bs = k.blockSums;
        for (int i = 0, j0 = 0; j0 < up; i++, j0 += RowKernel.BLOCK) {
            int gi = pure == null ? -1 : pure[i];
            if (gi >= 0) {
                za[gi] += bs[4 * i];
                zb[gi] += bs[4 * i + 1];
                d[gi] += bs[4 * i + 2];
            } else {
                blockGroupSums(k, j0, Math.min(up, j0 + RowKernel.BLOCK), codes, direct, rt, rs, za, zb, d);
            }
        }
        for (int j = up; j < c; j++) {
            int gi = (int) codes[j];
            za[gi] += k.p[j];
            zb[gi] += k.q[j];
            d[gi] += k.p[j] * ((double) k.t[j] - k.s[j]);
        }
    }

    /**
     * {@link #groupSums} over the classes {@code [j0, end)} of one block; the logits from the row buffers, or
     * with {@code direct} from the batch's buffers.
     */
    private static void blockGroupSums(VectorRowKernel k, int j0, int end, float[] codes, boolean direct,
                                       float rt, float rs, double[] za, double[] zb, double[] d) {
        ByteBuffer tb = direct ? k.loaded.teacher() : null;
        ByteBuffer sb = direct ? k.loaded.student() : null;
        int ta = direct ? k.loaded.teacherAt() : 0;
        int sa = direct ? k.loaded.studentAt() : 0;
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero;
        FloatVector a1 = zero;
        FloatVector a2 = zero;
        FloatVector b0 = zero;
        FloatVector b1 = zero;
        FloatVector b2 = zero;
        FloatVector d0 = zero;
        FloatVector d1 = zero;
        FloatVector d2 = zero;
        FloatVector vrt = FloatVector.broadcast(S, rt);
        FloatVector vrs = FloatVector.broadcast(S, rs);
        for (int j = j0; j < end; j += L) {
            FloatVector cv = FloatVector.fromArray(S, codes, j);
            VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
            VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
            VectorMask<Float> g01 = g0.or(g1);
            FloatVector p = FloatVector.fromArray(S, k.p, j);
            FloatVector q = FloatVector.fromArray(S, k.q, j);
            FloatVector tv = direct ? FloatVector.fromByteBuffer(S, tb, 4 * (ta + j), ORDER)
                    : FloatVector.fromArray(S, k.t, j);
            FloatVector sv = direct ? FloatVector.fromByteBuffer(S, sb, 4 * (sa + j), ORDER)
                    : FloatVector.fromArray(S, k.s, j);
            FloatVector e = p.mul(tv.sub(vrt).sub(sv.sub(vrs)));
            a0 = a0.add(zero.blend(p, g0));
            a1 = a1.add(zero.blend(p, g1));
            a2 = a2.add(p.blend(zero, g01));
            b0 = b0.add(zero.blend(q, g0));
            b1 = b1.add(zero.blend(q, g1));
            b2 = b2.add(q.blend(zero, g01));
            d0 = d0.add(zero.blend(e, g0));
            d1 = d1.add(zero.blend(e, g1));
            d2 = d2.add(e.blend(zero, g01));
        }
        double delta = (double) rt - rs;
        float pa0 = a0.reduceLanes(VectorOperators.ADD);
        float pa1 = a1.reduceLanes(VectorOperators.ADD);
        float pa2 = a2.reduceLanes(VectorOperators.ADD);
        za[0] += pa0;
        za[1] += pa1;
        za[2] += pa2;
        zb[0] += b0.reduceLanes(VectorOperators.ADD);
        zb[1] += b1.reduceLanes(VectorOperators.ADD);
        zb[2] += b2.reduceLanes(VectorOperators.ADD);
        d[0] += d0.reduceLanes(VectorOperators.ADD) + delta * pa0;
        d[1] += d1.reduceLanes(VectorOperators.ADD) + delta * pa1;
        d[2] += d2.reduceLanes(VectorOperators.ADD) + delta * pa2;
    }

    /**
     * Per group {@code Σ x} into {@code out}. With {@code pure}, a block whose classes are all in one group
     * adds the load pass's sum of it (slot {@code slot} of {@code k.blockSums}) instead.
     */
    private static void groupSum(VectorRowKernel k, float[] x, int slot, int c, float[] codes, int[] pure,
                                 double[] out) {
        int up = S.loopBound(c);
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0, j0 = 0; j0 < up; i++, j0 += RowKernel.BLOCK) {
            int gi = pure == null ? -1 : pure[i];
            if (gi >= 0) {
                out[gi] += k.blockSums[4 * i + slot];
                continue;
            }
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector a0 = zero;
            FloatVector a1 = zero;
            FloatVector a2 = zero;
            for (int j = j0; j < end; j += L) {
                FloatVector cv = FloatVector.fromArray(S, codes, j);
                VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
                VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
                FloatVector v = FloatVector.fromArray(S, x, j);
                a0 = a0.add(zero.blend(v, g0));
                a1 = a1.add(zero.blend(v, g1));
                a2 = a2.add(v.blend(zero, g0.or(g1)));
            }
            out[0] += a0.reduceLanes(VectorOperators.ADD);
            out[1] += a1.reduceLanes(VectorOperators.ADD);
            out[2] += a2.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            out[(int) codes[j]] += x[j];
        }
    }

    /**
     * {@code g (= or +=) cq_g q + cp_g p} with the constants of each class's group; a block whose classes
     * are all in one group ({@code pure}, the groups' {@link FusedTerm.LtkdGroups#blockGroups}) takes its
     * group's constants without reading the codes.
     */
    private static void groupGradient(VectorRowKernel k, int c, float[] codes, int[] pure, double[] cqd,
                                      double[] cpd) {
        float[] cq = {(float) cqd[0], (float) cqd[1], (float) cqd[2]};
        float[] cp = {(float) cpd[0], (float) cpd[1], (float) cpd[2]};
        int up = S.loopBound(c);
        FloatVector q0 = FloatVector.broadcast(S, cq[0]);
        FloatVector q1 = FloatVector.broadcast(S, cq[1]);
        FloatVector q2 = FloatVector.broadcast(S, cq[2]);
        FloatVector p0 = FloatVector.broadcast(S, cp[0]);
        FloatVector p1 = FloatVector.broadcast(S, cp[1]);
        FloatVector p2 = FloatVector.broadcast(S, cp[2]);
        boolean replace = k.first;
        // the only term, on a fused load pass: the blocks of one group are left to the next row's load pass
        // as their formula (LazyGradient.holdGroups)
        boolean hold = replace && k.lazyOk;
        float[] g = k.g;
        for (int i = 0, j0 = 0; j0 < up; i++, j0 += RowKernel.BLOCK) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            int gi = pure[i];
            if (gi >= 0) {
                if (!hold) {
                    k.addScaled(j0, end, cq[gi], cp[gi], replace);
                }
                continue;
            }
            for (int j = j0; j < end; j += L) {
                FloatVector cv = FloatVector.fromArray(S, codes, j);
                VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
                VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
                FloatVector acc = replace ? FloatVector.zero(S) : FloatVector.fromArray(S, g, j);
                acc = FloatVector.fromArray(S, k.q, j).fma(byGroup(q0, q1, q2, g0, g1), acc);
                k.store(FloatVector.fromArray(S, k.p, j).fma(byGroup(p0, p1, p2, g0, g1), acc), j);
            }
        }
        for (int j = up; j < c; j++) {
            int gi = (int) codes[j];
            k.store(j, (replace ? 0f : g[j]) + cq[gi] * k.q[j] + cp[gi] * k.p[j]);
        }
        if (hold) {
            k.lazy.holdGroups(k.p, cqd, cpd, pure, g, up);
        }
        k.first = false;
    }
}
