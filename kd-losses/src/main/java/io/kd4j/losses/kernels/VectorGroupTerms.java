package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * DKD and the top-k terms in the Vector API kernel (float32 lanes, sums flushed to double per block),
 * on the row buffers of a {@link VectorRowKernel}; loaded only through it (LTKD is in
 * {@link VectorLtkdTerm}). The formulas are those of {@link ScalarGroupTerms} and
 * {@link ScalarSparseTerms}: each part of a split softmax (non-target classes; the classes outside the
 * top-k) is max-shifted by its own maximum, and the few values outside it (the target class, the top-k
 * classes) are handled in double.
 */
final class VectorGroupTerms {
    private VectorGroupTerms() {
    }

    /** {@link io.kd4j.losses.logit.Dkd}, as {@link ScalarGroupTerms#dkd}. */
    static double dkd(VectorRowKernel k, int c, float ms, float mt, int y, FusedTerm term, boolean wantGrad, double gw,
                      double[] values, int at) {
        DkdRow.requireTwoClasses(c);
        float[] s = k.s;
        float[] t = k.t;
        // from the batch's buffers when the load pass left the rows out (LoadedRows)
        float sy = k.loaded.studentLogit(s, y);
        float ty = k.loaded.teacherLogit(t, y);
        float msn = ms;
        float mtn = mt;
        // the non-target shifts: the maxima of the other classes, or VectorPairLoad's guesses (ms, mt)
        if (sy == ms && !k.presetSums()) {
            msn = VectorSums.maxExcept(s, c, y);
        }
        if (ty == mt && !k.presetSums()) {
            mtn = VectorSums.maxExcept(t, c, y);
        }
        double[] z = k.pairExps(c, msn, mtn, term.temperature(), y);
        // gw is 0 without a gradient; a cross-entropy evaluated next may take the gradient over
        DkdRow r = DkdRow.of(term, gw, mtn, z[0], z[2], msn, z[1], ty, sy);
        float kq = (float) r.kq();
        float kp = (float) r.kp();
        float dy = (float) r.targetDelta();
        if (!VectorCrossEntropyTerm.defer(k, msn, kq, kp, y, dy) && wantGrad) {
            k.addScaled(c, kq, kp);
            k.addAt(y, dy);
        }
        return r.value(values, at);
    }

    /**
     * {@link io.kd4j.losses.logit.SparseTopKKl} and {@link io.kd4j.losses.logit.SparseTopKTvd}, as
     * {@link ScalarSparseTerms}: the student's exps over the classes outside the top-k in float lanes,
     * shifted by their own maximum, or, when the term goes first after {@link VectorSingleLoad#loadStudent},
     * by its guess (the exponentials that load pass stored) if their sum under it is at least
     * {@link VectorPairLoad#PART_FLOOR}; the k top-k classes in double.
     */
    static double sparse(VectorRowKernel k, int c, float ms, FusedTerm term, boolean wantGrad, double gw) {
        double tau = term.temperature();
        double inv = 1 / tau;
        SparseTeacherRow top = k.sparse;
        top.temper(tau, term.teacherTemperature());
        float[] s = k.s;
        int kk = top.k;
        int[] idx = top.index;
        // the top-k classes' logits, which become their log-probabilities below: from the batch's buffer
        // when the load pass left the row out (LoadedRows)
        double[] logQ = new double[kk];
        double maxTop = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < kk; i++) {
            logQ[i] = k.loaded.studentLogit(s, idx[i]);
            maxTop = Math.max(maxTop, logQ[i] * inv);
        }
        double sumTop = 0;
        for (int i = 0; i < kk; i++) {
            sumTop += Math.exp(logQ[i] * inv - maxTop);
        }
        double lseTop = maxTop + Math.log(sumTop);
        double lse = lseTop;
        double logStudentRest = Double.NEGATIVE_INFINITY;
        double zRest = 0;
        double restShift = 0;
        boolean preset = k.takePresetSums();
        if (top.hasRest) {
            // the load pass's exponentials, shifted by its guess ms, if the rest's sum is not tiny next to it
            float msr = ms;
            zRest = preset ? presetRest(k, c, idx, kk) : 0.0;
            if (!(zRest >= VectorPairLoad.PART_FLOOR)) {
                k.loaded.fillStudent(s);
                float[] saved = k.u;
                for (int i = 0; i < kk; i++) {
                    saved[i] = s[idx[i]];
                    s[idx[i]] = Float.NEGATIVE_INFINITY;
                }
                msr = VectorSums.max(s, c);
                for (int i = 0; i < kk; i++) {
                    s[idx[i]] = saved[i];
                }
                zRest = restExps(k, c, msr, (float) inv, idx, kk);
            }
            double lRest = msr * inv + Math.log(zRest);
            lse = RowKernel.logAddExp(lRest, lseTop);
            logStudentRest = lRest - lse;
            restShift = Math.exp(msr * inv - lse);
        }
        for (int i = 0; i < kk; i++) {
            logQ[i] = logQ[i] * inv - lse;
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
        return restSum(k, c, idx, kk);
    }

    /**
     * {@link #restSum} of the load pass's exponentials ({@link VectorSingleLoad#loadStudent}, whose sums per
     * block of {@value RowKernel#BLOCK} classes are in slot 0 of {@code k.blockSums}, the scalar tail's last)
     * without a pass over the row: each block's sum less its top-k classes' exponentials, or, where those
     * hold more than half of it (the difference would lose more than the sum's own rounding), the block's
     * sum taken again from {@code q}. The pass over the whole row that this replaces took about 5 % of
     * TopK-KL's samples in a JFR profile (docs/performance-log.md, "Kernel CPU time", fifteenth round).
     */
    private static double presetRest(VectorRowKernel k, int c, int[] idx, int kk) {
        float[] q = k.q;
        double[] sums = k.blockSums;
        int up = S.loopBound(c);
        int blocks = (up + RowKernel.BLOCK - 1) / RowKernel.BLOCK + 1;
        for (int b = 0; b < blocks; b++) {
            sums[4 * b + 1] = 0;
        }
        for (int i = 0; i < kk; i++) {
            int j = idx[i];
            sums[4 * (j < up ? j / RowKernel.BLOCK : blocks - 1) + 1] += q[j];
            q[j] = 0f;
        }
        double rest = 0;
        for (int b = 0; b < blocks; b++) {
            double all = sums[4 * b];
            double top = sums[4 * b + 1];
            if (top <= 0.5 * all) {
                rest += all - top;
            } else {
                int from = b == blocks - 1 ? up : b * RowKernel.BLOCK;
                int to = b == blocks - 1 ? c : Math.min(up, from + RowKernel.BLOCK);
                rest += VectorSums.sum(q, from, to);
            }
        }
        return rest;
    }

    /** Sets {@code q} to 0 at the top-k classes and returns its sum. */
    private static double restSum(VectorRowKernel k, int c, int[] idx, int kk) {
        float[] q = k.q;
        for (int i = 0; i < kk; i++) {
            q[idx[i]] = 0f;
        }
        return VectorSums.sum(q, c);
    }

    /** {@code g (= or +=) 0}: the gradient of the earlier terms (or zeros) where this term has none. */
    private static void keep(VectorRowKernel k, int c) {
        if (k.hold(0f, k.q, 0f)) {
            return;
        }
        boolean replace = k.first;
        for (int j = 0; j < c; j++) {
            k.store(j, replace ? 0f : k.g[j]);
        }
        k.first = false;
    }

    /** {@code g (= or +=) kq q}. */
    private static void addScaledQ(VectorRowKernel k, int c, float kq) {
        if (k.hold(kq, k.q, 0f)) {
            return;
        }
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
