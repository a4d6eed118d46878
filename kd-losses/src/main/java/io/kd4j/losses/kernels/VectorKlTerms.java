package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;

/**
 * The KL terms in the Vector API kernel, on the row buffers of a {@link VectorRowKernel}: forward KL
 * (soft targets), reverse KL, and the generalized JSD's special cases; loaded only through it. Formulas
 * as {@link ScalarRowKernel}'s.
 */
final class VectorKlTerms {
    private VectorKlTerms() {
    }

    /** KL(p ‖ q) = Σp(t-s)/(T zt) - lseT + lseS; gradient gw (q - p). */
    static double forwardKl(VectorRowKernel k, int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        double[] z = k.pairExps(c, ms, mt, tau, -1);
        double kl = z[2] / (tau * z[0]) - (mt / tau + Math.log(z[0])) + (ms / tau + Math.log(z[1]));
        float kq = (float) (gw / z[1]);
        float kp = (float) (-gw / z[0]);
        if (!VectorCrossEntropyTerm.defer(k, ms, kq, kp, -1, 0f) && wantGrad) {
            k.addScaled(c, kq, kp);
        }
        return kl;
    }

    /**
     * Whether the load pass stores {@code x = q (t - s)} (the unnormalised student exponentials times the
     * logit difference) into {@code u} for pair term {@code pair}: when it is the objective's only term and
     * a reverse KL (or the JSD at β = 1), whose gradient is then {@code kq q + kx x} ({@link #reverseKl}).
     * The caller asks only when the next row's load pass writes the gradient out.
     */
    static boolean storesDiff(Batch b, int pair) {
        if (pair < 0 || b.terms.length != 1) {
            return false;
        }
        FusedTerm t = b.terms[pair];
        return t.kind() == FusedTerm.Kind.REVERSE_KL
                || t.kind() == FusedTerm.Kind.GENERALIZED_JSD && t.teacherMixWeight() == 1;
    }

    /**
     * KL(q ‖ p); gradient gw q_j ((s_j - t_j)/T - lseS + lseT - KL), whose bracket is taken as
     * {@code ((s - rs) - (t - rt))/T + C} with {@code C = (rs - rt)/T + lseT - lseS - KL} in double, the
     * logits relative to the reference logits of the sums {@link VectorRowKernel#pairExps} returns (the load
     * pass's guesses, which it takes as the shifts, else {@link VectorPairLoad#reference}, near the rows'
     * values): for rows thousands of logits apart, {@code s - t} and {@code lseT - lseS} are large and
     * cancel, and in float would lose the bracket's precision (FarApartRowsTest). With the load pass's
     * {@code x = q ((t - rt) - (s - rs))} in {@code u} ({@link #storesDiff}; its references are its guesses)
     * the gradient is held as {@code (gw C / zs) q - (gw / (T zs)) x} for the next row's load pass; otherwise
     * a pass over the row buffers writes it.
     */
    static double reverseKl(VectorRowKernel k, int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        boolean preset = k.presetSums();
        double[] z = k.pairExps(c, ms, mt, tau, -1);
        double shift = mt / tau + Math.log(z[0]) - ms / tau - Math.log(z[1]);
        double kl = z[3] / (tau * z[1]) + shift;
        // else pairExps read the rows from the row buffers
        float rs = preset ? ms : VectorPairLoad.reference(k.s, c);
        float rt = preset ? mt : VectorPairLoad.reference(k.t, c);
        double inner0 = ((double) rs - rt) / tau + shift - kl;
        if (wantGrad && k.loadDiff && k.hold((float) (gw * inner0 / z[1]), k.u, (float) (-gw / (tau * z[1])))) {
            return kl;
        }
        if (wantGrad) {
            k.loaded.fill(k.t, k.s); // the load pass copies the rows only for other terms (LoadedRows)
            int up = S.loopBound(c);
            float inv = (float) (1 / tau);
            FloatVector vinv = FloatVector.broadcast(S, inv);
            FloatVector kq = FloatVector.broadcast(S, (float) (gw / z[1]));
            FloatVector sk = FloatVector.broadcast(S, (float) inner0);
            FloatVector vrs = FloatVector.broadcast(S, rs);
            FloatVector vrt = FloatVector.broadcast(S, rt);
            boolean replace = k.first;
            float[] s = k.s;
            float[] t = k.t;
            float[] g = k.g;
            float[] q = k.q;
            for (int j = 0; j < up; j += L) {
                FloatVector inner = FloatVector.fromArray(S, s, j).sub(vrs)
                        .sub(FloatVector.fromArray(S, t, j).sub(vrt)).fma(vinv, sk);
                FloatVector acc = replace ? FloatVector.zero(S) : FloatVector.fromArray(S, g, j);
                k.store(FloatVector.fromArray(S, q, j).mul(kq).fma(inner, acc), j);
            }
            for (int j = up; j < c; j++) {
                k.store(j, (replace ? 0f : g[j])
                        + (float) (gw * q[j] / z[1] * (((double) s[j] - t[j]) * inv + shift - kl)));
            }
            k.first = false;
        }
        return kl;
    }

    /**
     * Generalized JSD: TRL's special cases at β = 0 (forward KL) and β = 1 (reverse KL), else
     * {@link VectorJsdTerm}.
     */
    static double jsd(VectorRowKernel k, int c, float ms, float mt, double tau, double beta, boolean wantGrad,
                      double gw) {
        if (beta == 0) {
            return forwardKl(k, c, ms, mt, tau, wantGrad, gw);
        }
        if (beta == 1) {
            return reverseKl(k, c, ms, mt, tau, wantGrad, gw);
        }
        return VectorJsdTerm.jsd(k, c, ms, mt, tau, beta, wantGrad, gw);
    }
}
