package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The generalized JSD at 0 &lt; β &lt; 1 in the Vector API kernel (one inlined {@link VectorLog#log} per
 * class, on top of the two exponentials), on the row buffers of a {@link VectorRowKernel}; loaded only
 * through it. Formulas as {@link ScalarRowKernel}'s {@code jsd}.
 */
final class VectorJsdTerm {
    private VectorJsdTerm() {
    }

    /**
     * Generalized JSD at 0 &lt; β &lt; 1: with m = βp + (1-β)q,
     * {@code β KL(p ‖ m) + (1-β) KL(q ‖ m)}; gradient {@code gw (u - q Σu)}, {@code u = (1-β) q (log q - log m)}.
     * {@code m} is floored at the smallest normal float before its logarithm, which only touches
     * classes whose probabilities are both below 1.2e-38.
     */
    static double jsd(VectorRowKernel k, int c, float ms, float mt, double tau, double beta, boolean wantGrad,
                      double gw) {
        float[] s = k.s;
        float[] t = k.t;
        float[] p = k.p;
        float[] q = k.q;
        float[] u = k.u;
        double[] z = k.pairExps(c, ms, mt, tau, -1);
        int up = S.loopBound(c);
        float inv = (float) (1 / tau);
        float lzt = (float) Math.log(z[0]);
        float lzs = (float) Math.log(z[1]);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vmt = FloatVector.broadcast(S, mt);
        FloatVector vms = FloatVector.broadcast(S, ms);
        FloatVector nlzt = FloatVector.broadcast(S, -lzt);
        FloatVector nlzs = FloatVector.broadcast(S, -lzs);
        // β p and (1-β) q in one multiplication each
        FloatVector vbt = FloatVector.broadcast(S, (float) (beta / z[0]));
        FloatVector vbs = FloatVector.broadcast(S, (float) ((1 - beta) / z[1]));
        FloatVector tiny = FloatVector.broadcast(S, Float.MIN_NORMAL);
        double value = 0;
        double su = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector av = FloatVector.zero(S);
            FloatVector au = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector bp = FloatVector.fromArray(S, p, j).mul(vbt);
                FloatVector bq = FloatVector.fromArray(S, q, j).mul(vbs);
                FloatVector logP = FloatVector.fromArray(S, t, j).sub(vmt).fma(vinv, nlzt);
                FloatVector logQ = FloatVector.fromArray(S, s, j).sub(vms).fma(vinv, nlzs);
                FloatVector m = bp.add(bq);
                // a compare and a blend, not max(tiny): see VectorRowKernel.larger
                FloatVector logM = VectorLog.log(m.blend(tiny, m.compare(VectorOperators.LT, tiny)));
                FloatVector uj = bq.mul(logQ.sub(logM));
                uj.intoArray(u, j);
                av = bp.fma(logP.sub(logM), av.add(uj));
                au = au.add(uj);
            }
            value += av.reduceLanes(VectorOperators.ADD);
            su += au.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            double pj = p[j] / z[0];
            double qj = q[j] / z[1];
            double logP = (t[j] - mt) * (double) inv - lzt;
            double logQ = (s[j] - ms) * (double) inv - lzs;
            double logM = Math.log(Math.max(beta * pj + (1 - beta) * qj, Float.MIN_NORMAL));
            double uj = (1 - beta) * RowKernel.weighted(qj, logQ, logM);
            u[j] = (float) uj;
            value += beta * RowKernel.weighted(pj, logP, logM) + uj;
            su += uj;
        }
        if (wantGrad) {
            gradient(k, c, z[1], su, gw);
        }
        return value;
    }

    /**
     * {@code g = gw (u - q Σu)} from the {@code u} the value loop stored. A method of its own: in the value
     * loop's compilation C2 ran out of nodes before inlining {@code store} and boxed its vector.
     */
    private static void gradient(VectorRowKernel k, int c, double zs, double su, double gw) {
        k.addScaled(c, (float) (-gw * su / zs), k.u, (float) gw);
    }
}
