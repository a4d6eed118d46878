package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Standardized KD ({@code SoftTargetKl(standardize=true)}, Sun et al., CVPR 2024) in the float32 vector
 * kernel without buffers of z-scores (until the fourteenth round, the term ran on z-scores written into
 * buffers of their own, its gradient in a third, taken back through the standardization in further passes).
 * The z-scores are computed where they are used, from the row buffers {@code t} and {@code s}
 * ({@code z = ((x - hi) - lo) / D}, the same float operations at each use): one pass ({@link #exps}, which
 * standardized DKD shares, {@link VectorStandardizedDkd}) takes both exponentials
 * (of {@code (z - max z) / T}, as {@link VectorRowKernel#pairExps} on z-scores) with KD's sums and the two
 * sums the standardization's gradient needs, and one pass writes the row's gradient,
 * <pre>
 *   g_z = kq q + kp p  (KD's gradient with respect to the student's z-scores, {@link VectorKlTerms#forwardKl})
 *   dL/ds_j = (g_z,j - mean g_z) / D  -  (Σ g_z z) z_j / ((C - 1) std)
 * </pre>
 * the second part being {@link Standardize}'s {@code (Σ g d) d / (D² (C - 1) std)} with {@code d = D z}, and
 * {@code Σ g_z z = kq Σ q z + kp Σ p z} from the sums of the first pass; {@code mean g_z} is 0 for KD
 * ({@code Σ g_z = gw T (Σ q̂ - Σ p̂)}). The rows' means, deviations and maxima come from
 * {@link VectorStandardized}. At 2048 × 32000 this took standardized KD from 71–87 ms to
 * 54–56 ms (docs/performance-log.md, "Kernel CPU time", fourteenth round).
 */
final class VectorStandardizedKd {
    private VectorStandardizedKd() {
    }

    /**
     * Standardized KD at temperature {@code tau} on {@code k}'s row buffers {@code t} and {@code s}; its value
     * {@code T² KL(p ‖ q)} of the z-scores; with {@code wantGrad} writes (or adds, after earlier terms) its
     * gradient {@code gw T (...)}, as {@link VectorRowKernel#term} scales KD's. {@code maxS} and
     * {@code maxT} are the rows' maxima and {@code statsS} and {@code statsT} their {@code {mean, D, std}}
     * ({@link VectorStandardized}); {@code consts} (10 floats) and {@code sums} (5 doubles) are scratch.
     */
    static double kd(VectorRowKernel k, int c, double tau, boolean wantGrad, double gw, float maxS, float maxT,
                     double[] statsS, double[] statsT, float[] consts, double[] sums) {
        exps(k, c, tau, maxS, maxT, statsS, statsT, consts, sums);
        double zt = sums[0];
        double zs = sums[1];
        float zmt = consts[3];
        float zms = consts[8];
        double kl = sums[2] / (tau * zt) - (zmt / tau + Math.log(zt)) + (zms / tau + Math.log(zs));
        if (wantGrad) {
            // KD's gradient with respect to the z-scores, g_z = kq q + kp p (VectorKlTerms.forwardKl at gw T)
            float kq = (float) (gw * tau / zs);
            float kp = (float) (-gw * tau / zt);
            // mean g_z is 0: kq Σ q + kp Σ p = gw T - gw T, up to the rounding of kq and kp
            double std = statsS[2];
            float second = (float) (std > 0 ? ((double) kq * sums[4] + (double) kp * sums[3]) / ((c - 1) * std) : 0.0);
            write(k, c, kq, kp, -second, consts);
        }
        return tau * tau * kl;
    }

    /**
     * Both rows' exponentials {@code exp((z - max z) / T)} of their z-scores into {@code p} and {@code q}, from
     * the row buffers {@code t} and {@code s} with the rows' {@code {mean, D, std}} and the maxima
     * {@code maxS} and {@code maxT} of the values whose exponentials are taken (the rows' maxima, or for DKD,
     * which has set its target class to them, the other classes' maxima); into {@code sums}: {@code Σ p},
     * {@code Σ q}, {@code Σ p (zt - zs)}, {@code Σ p zs} and {@code Σ q zs}. {@code v} (10 floats) receives
     * {hiT, loT, 1/D_T, max zt, refT} and the same for the student (the mean as {@code hi + lo}; the reference
     * values, the largest of the first 16 z-scores, as {@link VectorPairLoad#reference}).
     */
    static void exps(VectorRowKernel k, int c, double tau, float maxS, float maxT, double[] statsS,
                     double[] statsT, float[] v, double[] sums) {
        float[] s = k.s;
        float[] t = k.t;
        float hiS = (float) statsS[0];
        float loS = (float) (statsS[0] - hiS);
        float hiT = (float) statsT[0];
        float loT = (float) (statsT[0] - hiT);
        float invS = (float) (1 / statsS[1]);
        float invT = (float) (1 / statsT[1]);
        // the z-scores' maxima (by the same float operations as the z-scores) and reference values
        float zms = (maxS - hiS - loS) * invS;
        float zmt = (maxT - hiT - loT) * invT;
        float refS = Float.NEGATIVE_INFINITY;
        float refT = Float.NEGATIVE_INFINITY;
        for (int j = 0, n = Math.min(c, VectorPairLoad.GUESS_VALUES); j < n; j++) {
            refS = Math.max(refS, (s[j] - hiS - loS) * invS);
            refT = Math.max(refT, (t[j] - hiT - loT) * invT);
        }
        float[] p = k.p;
        float[] q = k.q;
        float inv = (float) (1 / tau);
        int up = S.loopBound(c);
        v[0] = hiT;
        v[1] = loT;
        v[2] = invT;
        v[3] = zmt;
        v[4] = refT;
        v[5] = hiS;
        v[6] = loS;
        v[7] = invS;
        v[8] = zms;
        v[9] = refS;
        lanes(k, up, inv, v, sums);
        double zt = sums[0];
        double zs = sums[1];
        double pd = sums[2];
        double pz = sums[3];
        double qz = sums[4];
        for (int j = up; j < c; j++) {
            float tz = (t[j] - hiT - loT) * invT;
            float sz = (s[j] - hiS - loS) * invS;
            float a = VectorRowKernel.exp((tz - zmt) * inv);
            float b = VectorRowKernel.exp((sz - zms) * inv);
            p[j] = a;
            q[j] = b;
            zt += a;
            zs += b;
            pd += a * ((double) tz - sz);
            pz += a * sz;
            qz += b * sz;
        }
        sums[0] = zt;
        sums[1] = zs;
        sums[2] = pd;
        sums[3] = pz;
        sums[4] = qz;
    }

    /**
     * The vector part of {@link #kd}'s pass, {@code [0, up)}: both rows' exponentials into {@code p} and
     * {@code q} and, into {@code out}, {@code Σ p}, {@code Σ q}, {@code Σ p (zt - zs)} (over the z-scores
     * relative to their reference values, with {@code (refT - refS) Σ p} added in double, as
     * {@link VectorRowKernel#pairExps}), {@code Σ p zs} and {@code Σ q zs}. A method of its own: inside
     * {@link #kd}, C2 left the exponential's blend to the Vector API's Java code (about 1.8 times the time).
     * {@code v} holds {hiT, loT, 1/D_T, max zt, refT} and the same for the student. The exponentials' arguments
     * are at most 0 (the z-scores' maxima are taken by the same float operations), so they need no cap.
     */
    private static void lanes(VectorRowKernel k, int up, float inv, float[] v, double[] out) {
        float[] t = k.t;
        float[] s = k.s;
        float[] p = k.p;
        float[] q = k.q;
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vhiT = FloatVector.broadcast(S, v[0]);
        FloatVector vloT = FloatVector.broadcast(S, v[1]);
        FloatVector vinvT = FloatVector.broadcast(S, v[2]);
        FloatVector vzmt = FloatVector.broadcast(S, v[3]);
        FloatVector vrt = FloatVector.broadcast(S, v[4]);
        FloatVector vhiS = FloatVector.broadcast(S, v[5]);
        FloatVector vloS = FloatVector.broadcast(S, v[6]);
        FloatVector vinvS = FloatVector.broadcast(S, v[7]);
        FloatVector vzms = FloatVector.broadcast(S, v[8]);
        FloatVector vrs = FloatVector.broadcast(S, v[9]);
        double delta = (double) v[4] - v[9];
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double pz = 0;
        double qz = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector apd = FloatVector.zero(S);
            FloatVector apz = FloatVector.zero(S);
            FloatVector aqz = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector tz = FloatVector.fromArray(S, t, j).sub(vhiT).sub(vloT).mul(vinvT);
                FloatVector sz = FloatVector.fromArray(S, s, j).sub(vhiS).sub(vloS).mul(vinvS);
                FloatVector a = VectorExp.expShifted(tz.sub(vzmt), vinv, vil);
                FloatVector b = VectorExp.expShifted(sz.sub(vzms), vinv, vil);
                a.intoArray(p, j);
                b.intoArray(q, j);
                azt = azt.add(a);
                azs = azs.add(b);
                apd = a.fma(tz.sub(vrt).sub(sz.sub(vrs)), apd);
                apz = a.fma(sz, apz);
                aqz = b.fma(sz, aqz);
            }
            float bt = azt.reduceLanes(VectorOperators.ADD);
            zt += bt;
            zs += azs.reduceLanes(VectorOperators.ADD);
            pd += apd.reduceLanes(VectorOperators.ADD) + delta * bt;
            pz += apz.reduceLanes(VectorOperators.ADD);
            qz += aqz.reduceLanes(VectorOperators.ADD);
        }
        out[0] = zt;
        out[1] = zs;
        out[2] = pd;
        out[3] = pz;
        out[4] = qz;
    }

    /**
     * {@code g = (aq q + ap p) / D + az z}, {@code z} the student's z-scores from {@code s} ({@code v} as
     * {@link #exps} filled it), into {@code k}'s gradient row (replacing it for the row's first term, else
     * added).
     */
    static void write(VectorRowKernel k, int c, float aq, float ap, float az, float[] v) {
        float hi = v[5];
        float lo = v[6];
        float inv = v[7];
        aq *= inv;
        ap *= inv;
        float[] s = k.s;
        float[] p = k.p;
        float[] q = k.q;
        float[] g = k.g;
        boolean replace = k.first;
        int up = S.loopBound(c);
        FloatVector vaq = FloatVector.broadcast(S, aq);
        FloatVector vap = FloatVector.broadcast(S, ap);
        FloatVector vaz = FloatVector.broadcast(S, az);
        FloatVector vhi = FloatVector.broadcast(S, hi);
        FloatVector vlo = FloatVector.broadcast(S, lo);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        for (int j = 0; j < up; j += L) {
            FloatVector z = FloatVector.fromArray(S, s, j).sub(vhi).sub(vlo).mul(vinv);
            FloatVector w = FloatVector.fromArray(S, q, j).fma(vaq, FloatVector.fromArray(S, p, j).fma(vap, z.mul(vaz)));
            k.store(replace ? w : FloatVector.fromArray(S, g, j).add(w), j);
        }
        for (int j = up; j < c; j++) {
            float w = aq * q[j] + ap * p[j] + az * ((s[j] - hi - lo) * inv);
            k.store(j, replace ? w : g[j] + w);
        }
        k.first = false;
    }
}
