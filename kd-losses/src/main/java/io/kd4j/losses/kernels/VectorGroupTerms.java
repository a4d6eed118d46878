package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.EXP_FLOOR;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * DKD, LTKD and the top-k terms in the Vector API kernel (float32 lanes, sums flushed to double per
 * block), on the row buffers of a {@link VectorRowKernel}; loaded only through it. The formulas are
 * those of {@link ScalarGroupTerms} and {@link ScalarSparseTerms}: each part of a split softmax
 * (non-target classes; a class group; the classes outside the top-k) is max-shifted by its own
 * maximum, and the few values outside it (the target class, the top-k classes) are handled in double.
 */
final class VectorGroupTerms {
    private VectorGroupTerms() {
    }

    /** {@link io.kd4j.losses.logit.Dkd}, as {@link ScalarGroupTerms#dkd}. */
    static double dkd(VectorRowKernel k, int c, float ms, float mt, int y, FusedTerm term, boolean wantGrad, double gw,
                      double[] values, int at) {
        if (c < 2) {
            throw new IllegalArgumentException("Dkd: needs at least 2 classes (a target and a non-target), got " + c);
        }
        float[] s = k.s;
        float[] t = k.t;
        float sy = s[y];
        float ty = t[y];
        float msn = ms;
        float mtn = mt;
        // the non-target shifts: the maxima of the other classes, or VectorPairLoad's guesses (ms, mt)
        if (sy == ms && !k.presetSums()) {
            s[y] = Float.NEGATIVE_INFINITY;
            msn = VectorRowKernel.max(s, c);
            s[y] = sy;
        }
        if (ty == mt && !k.presetSums()) {
            t[y] = Float.NEGATIVE_INFINITY;
            mtn = VectorRowKernel.max(t, c);
            t[y] = ty;
        }
        double tau = term.temperature();
        double inv = 1 / tau;
        double[] z = k.pairExps(c, msn, mtn, tau, y);
        double ztn = z[0];
        double zsn = z[1];
        double lseNonT = mtn * inv + Math.log(ztn);
        double lseNonS = msn * inv + Math.log(zsn);
        double lseT = RowKernel.logAddExp(lseNonT, ty * inv);
        double lseS = RowKernel.logAddExp(lseNonS, sy * inv);
        double logBs1 = sy * inv - lseS;
        double logBs2 = lseNonS - lseS;
        double logBt1 = ty * inv - lseT;
        double logBt2 = lseNonT - lseT;
        double bt1 = Math.exp(logBt1);
        double bt2 = Math.exp(logBt2);
        double tckd = (bt1 > 0 ? bt1 * (logBt1 - logBs1) : 0.0) + (bt2 > 0 ? bt2 * (logBt2 - logBs2) : 0.0);
        double nckd = z[2] / (tau * ztn) - lseNonT + lseNonS;
        FusedTerm.DkdWeights w = term.dkdWeights();
        double alpha = w.targetWeight();
        double beta = w.nonTargetWeight();
        if (wantGrad) {
            double gs = gw * w.warmupFactor() * tau;
            double bs2 = Math.exp(logBs2);
            k.addScaled(c, (float) (gs * (alpha * (bs2 - bt2) + beta) / zsn), (float) (-gs * beta / ztn));
            k.addAt(y, (float) (gs * alpha * (Math.exp(logBs1) - bt1)));
        }
        double scale = w.warmupFactor() * tau * tau;
        double tTerm = scale * alpha * tckd;
        double nTerm = scale * beta * nckd;
        values[at + 1] = tTerm;
        values[at + 2] = nTerm;
        return tTerm + nTerm;
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

    /** A vector holding {@code v[g]} in the lanes of group g ({@code cv} holds the lanes' groups). */
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

    /** LTKD's first pass: {@code log P_g} of the teacher row in {@code t}, as {@link ScalarGroupTerms}. */
    static void teacherGroupMasses(VectorRowKernel k, int c, FusedTerm term, double[] out) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        double[] m = new double[3];
        groupMax(k.t, c, groups.codes(), m);
        double[] z = new double[3];
        groupExps(k.t, c, groups.codes(), m, term.temperature(), k.p, z);
        double inv = 1 / term.temperature();
        for (int gi = 0; gi < 3; gi++) {
            out[gi] = groups.size(gi) == 0 ? Double.NEGATIVE_INFINITY : m[gi] * inv + Math.log(z[gi]);
        }
        double lse = RowKernel.logSumExp3(out);
        for (int gi = 0; gi < 3; gi++) {
            out[gi] -= lse;
        }
    }

    /** {@link io.kd4j.losses.logit.Ltkd}, as {@link ScalarGroupTerms#ltkd}. */
    static double ltkd(VectorRowKernel k, int c, FusedTerm term, double[] logW, boolean wantGrad, double gw,
                       double[] values, int at) {
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        groups.checkClasses(c);
        float[] codes = groups.codes();
        double tau = term.temperature();
        double inv = 1 / tau;
        double[] mt = new double[3];
        double[] ms = new double[3];
        groupMax(k.t, c, codes, mt);
        groupMax(k.s, c, codes, ms);
        double[] za = new double[3];
        double[] zb = new double[3];
        groupExps(k.t, c, codes, mt, tau, k.p, za);
        groupExps(k.s, c, codes, ms, tau, k.q, zb);
        double[] d = groupCross(k, c, codes);
        double[] logP = new double[3];
        double[] logQ = new double[3];
        for (int gi = 0; gi < 3; gi++) {
            boolean empty = groups.size(gi) == 0;
            logP[gi] = empty ? Double.NEGATIVE_INFINITY : mt[gi] * inv + Math.log(za[gi]);
            logQ[gi] = empty ? Double.NEGATIVE_INFINITY : ms[gi] * inv + Math.log(zb[gi]);
        }
        double lseT = RowKernel.logSumExp3(logP);
        double lseS = RowKernel.logSumExp3(logQ);
        double[] logPhat = new double[3];
        for (int gi = 0; gi < 3; gi++) {
            logP[gi] -= lseT;
            logQ[gi] -= lseS;
            logPhat[gi] = groups.size(gi) == 0 ? Double.NEGATIVE_INFINITY : logP[gi] + (logW != null ? logW[gi] : 0.0);
        }
        double norm = RowKernel.logSumExp3(logPhat);
        double cross = groups.crossGroupWeight();
        double within = groups.withinGroupWeight();
        double rowCross = 0;
        double rowWithin = 0;
        float[] cq = new float[3];
        float[] cp = new float[3];
        for (int gi = 0; gi < 3; gi++) {
            values[at + 3 + gi] = 0.0;
            if (groups.size(gi) == 0) {
                continue;
            }
            logPhat[gi] -= norm;
            double pHat = Math.exp(logPhat[gi]);
            rowCross += pHat * (logPhat[gi] - logQ[gi]);
            double v = groups.reweight() ? 1.0 : Math.exp(logP[gi]);
            double kl = d[gi] / (tau * za[gi]) + (ms[gi] - mt[gi]) * inv - Math.log(za[gi]) + Math.log(zb[gi]);
            double part = tau * tau * within * v * kl;
            values[at + 3 + gi] = part;
            rowWithin += part;
            cq[gi] = (float) (gw * tau * (cross * (Math.exp(logQ[gi]) - pHat) + within * v) / zb[gi]);
            cp[gi] = (float) (-gw * tau * within * v / za[gi]);
        }
        if (wantGrad) {
            groupGradient(k, c, codes, cq, cp);
        }
        rowCross *= tau * tau * cross;
        values[at + 1] = rowCross;
        values[at + 2] = rowWithin;
        return rowCross + rowWithin;
    }

    /** Per group {@code Σ p (t - s)} over the stored teacher exps {@code p}. */
    private static double[] groupCross(VectorRowKernel k, int c, float[] codes) {
        double[] d = new double[3];
        int up = S.loopBound(c);
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
                FloatVector e = FloatVector.fromArray(S, k.p, j)
                        .mul(FloatVector.fromArray(S, k.t, j).sub(FloatVector.fromArray(S, k.s, j)));
                a0 = a0.add(zero.blend(e, g0));
                a1 = a1.add(zero.blend(e, g1));
                a2 = a2.add(e.blend(zero, g0.or(g1)));
            }
            d[0] += a0.reduceLanes(VectorOperators.ADD);
            d[1] += a1.reduceLanes(VectorOperators.ADD);
            d[2] += a2.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            d[(int) codes[j]] += k.p[j] * ((double) k.t[j] - k.s[j]);
        }
        return d;
    }

    /** {@code g (= or +=) cq_g q + cp_g p} with the constants of each class's group. */
    private static void groupGradient(VectorRowKernel k, int c, float[] codes, float[] cq, float[] cp) {
        int up = S.loopBound(c);
        FloatVector q0 = FloatVector.broadcast(S, cq[0]);
        FloatVector q1 = FloatVector.broadcast(S, cq[1]);
        FloatVector q2 = FloatVector.broadcast(S, cq[2]);
        FloatVector p0 = FloatVector.broadcast(S, cp[0]);
        FloatVector p1 = FloatVector.broadcast(S, cp[1]);
        FloatVector p2 = FloatVector.broadcast(S, cp[2]);
        boolean replace = k.first;
        float[] g = k.g;
        for (int j = 0; j < up; j += L) {
            FloatVector cv = FloatVector.fromArray(S, codes, j);
            VectorMask<Float> g0 = cv.compare(VectorOperators.EQ, 0f);
            VectorMask<Float> g1 = cv.compare(VectorOperators.EQ, 1f);
            FloatVector acc = replace ? FloatVector.zero(S) : FloatVector.fromArray(S, g, j);
            acc = FloatVector.fromArray(S, k.q, j).fma(byGroup(q0, q1, q2, g0, g1), acc);
            k.store(FloatVector.fromArray(S, k.p, j).fma(byGroup(p0, p1, p2, g0, g1), acc), j);
        }
        for (int j = up; j < c; j++) {
            int gi = (int) codes[j];
            k.store(j, (replace ? 0f : g[j]) + cq[gi] * k.q[j] + cp[gi] * k.p[j]);
        }
        k.first = false;
    }

    /**
     * {@link io.kd4j.losses.logit.SparseTopKKl} and {@link io.kd4j.losses.logit.SparseTopKTvd}, as
     * {@link ScalarSparseTerms}: the student's exps over the classes outside the top-k, shifted by their
     * own maximum, in float lanes; the k top-k classes in double.
     */
    static double sparse(VectorRowKernel k, int c, float ms, FusedTerm term, boolean wantGrad, double gw) {
        double tau = term.temperature();
        double inv = 1 / tau;
        SparseTeacherRow top = k.sparse;
        top.temper(tau, term.teacherTemperature());
        float[] s = k.s;
        int kk = top.k;
        int[] idx = top.index;
        double maxTop = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < kk; i++) {
            maxTop = Math.max(maxTop, s[idx[i]] * inv);
        }
        double sumTop = 0;
        for (int i = 0; i < kk; i++) {
            sumTop += Math.exp(s[idx[i]] * inv - maxTop);
        }
        double lseTop = maxTop + Math.log(sumTop);
        double lse = lseTop;
        double logStudentRest = Double.NEGATIVE_INFINITY;
        double zRest = 0;
        double restShift = 0;
        if (top.hasRest) {
            float[] saved = k.u;
            for (int i = 0; i < kk; i++) {
                saved[i] = s[idx[i]];
                s[idx[i]] = Float.NEGATIVE_INFINITY;
            }
            float msr = VectorRowKernel.max(s, c);
            for (int i = 0; i < kk; i++) {
                s[idx[i]] = saved[i];
            }
            zRest = restExps(k, c, msr, (float) inv, idx, kk);
            double lRest = msr * inv + Math.log(zRest);
            lse = RowKernel.logAddExp(lRest, lseTop);
            logStudentRest = lRest - lse;
            restShift = Math.exp(msr * inv - lse);
        }
        double[] logQ = new double[kk];
        for (int i = 0; i < kk; i++) {
            logQ[i] = s[idx[i]] * inv - lse;
        }
        double value;
        double restCoefficient;
        double su;
        double scale;
        double[] uTop = new double[kk];
        if (term.kind() == FusedTerm.Kind.SPARSE_TOP_K_KL) {
            double r = Math.exp(top.logRest);
            boolean tail = top.hasRest && r > 0;
            value = 0;
            su = tail ? -r : 0.0;
            for (int i = 0; i < kk; i++) {
                double lp = top.logProb[i];
                double p = Math.exp(lp);
                value += RowKernel.weighted(p, lp, logQ[i]);
                uTop[i] = -p;
                su -= p;
            }
            if (tail) {
                value += r * (top.logRest - logStudentRest);
            }
            value *= tau * tau;
            scale = gw * tau;
            // non-top class j: u_j = -r q_j / q_rest, so u_j - q_j Σu = b_j (-r / zRest - Σu restShift)
            restCoefficient = top.hasRest ? scale * ((tail ? -r / zRest : 0.0) - su * restShift) : 0.0;
        } else {
            double sum = 0;
            double rest = 0;
            if (top.hasRest) {
                double dr = Math.exp(logStudentRest) - Math.exp(top.logRest);
                sum += Math.abs(dr);
                rest = 0.5 * RowKernel.tieSign(dr);
            }
            su = rest * Math.exp(logStudentRest);
            for (int i = 0; i < kk; i++) {
                double q = Math.exp(logQ[i]);
                double d = q - Math.exp(top.logProb[i]);
                sum += Math.abs(d);
                uTop[i] = 0.5 * q * RowKernel.tieSign(d);
                su += uTop[i];
            }
            value = 0.5 * sum;
            scale = gw / tau;
            restCoefficient = top.hasRest ? scale * (rest - su) * restShift : 0.0;
        }
        if (wantGrad) {
            if (top.hasRest) {
                addScaledQ(k, c, (float) restCoefficient);
            } else {
                keep(k, c);
            }
            for (int i = 0; i < kk; i++) {
                k.addAt(idx[i], (float) (scale * (uTop[i] - Math.exp(logQ[i]) * su)));
            }
        }
        return value;
    }

    /**
     * {@code q = exp((s - msr) / T)} with the top-k classes set to 0; returns their sum over the classes
     * outside the top-k.
     */
    private static double restExps(VectorRowKernel k, int c, float msr, float inv, int[] idx, int kk) {
        float[] s = k.s;
        float[] q = k.q;
        int up = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vm = FloatVector.broadcast(S, msr);
        for (int j = 0; j < up; j += L) {
            VectorExp.exp(FloatVector.fromArray(S, s, j).sub(vm), vinv, vil).intoArray(q, j);
        }
        for (int j = up; j < c; j++) {
            q[j] = VectorRowKernel.exp((s[j] - msr) * inv);
        }
        for (int i = 0; i < kk; i++) {
            q[idx[i]] = 0f;
        }
        double z = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector a = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                a = a.add(FloatVector.fromArray(S, q, j));
            }
            z += a.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            z += q[j];
        }
        return z;
    }

    /** {@code g (= or +=) 0}: the gradient of the earlier terms (or zeros) where this term has none. */
    private static void keep(VectorRowKernel k, int c) {
        boolean replace = k.first;
        for (int j = 0; j < c; j++) {
            k.store(j, replace ? 0f : k.g[j]);
        }
        k.first = false;
    }

    /** {@code g (= or +=) kq q}. */
    private static void addScaledQ(VectorRowKernel k, int c, float kq) {
        int up = S.loopBound(c);
        FloatVector vq = FloatVector.broadcast(S, kq);
        boolean replace = k.first;
        float[] g = k.g;
        for (int j = 0; j < up; j += L) {
            FloatVector acc = replace ? FloatVector.zero(S) : FloatVector.fromArray(S, g, j);
            k.store(FloatVector.fromArray(S, k.q, j).fma(vq, acc), j);
        }
        for (int j = up; j < c; j++) {
            k.store(j, (replace ? 0f : g[j]) + kq * k.q[j]);
        }
        k.first = false;
    }
}
