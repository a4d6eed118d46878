package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The generalized JSD at 0 &lt; β &lt; 1 in the Vector API kernel (one inlined {@link VectorLog#log} per
 * class, on top of the two exponentials), on the row buffers of a {@link VectorRowKernel}; loaded only
 * through it. Formulas as {@link ScalarRowKernel}'s {@code jsd}.
 */
final class VectorJsdTerm {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorJsdTerm() {
    }

    /**
     * Generalized JSD at 0 &lt; β &lt; 1: with m = βp + (1-β)q,
     * {@code β KL(p ‖ m) + (1-β) KL(q ‖ m)}; gradient {@code gw (u - q Σu)}, {@code u = (1-β) q (log q - log m)}.
     *
     * <p>The value is taken as {@code β KL(p ‖ q) + Σ (βp + (1-β)q)(log q - log m)}, the same sum split at
     * {@code log q}: KL(p ‖ q) comes from the sums of the pair pass (as {@link VectorKlTerms#forwardKl}), so
     * each class needs {@code log q - log m} only, not {@code log p} too. The loop keeps the unnormalised
     * {@code p} and {@code q} and scales its two sums once per row. {@code m} gets {@link Float#MIN_NORMAL}
     * added before its logarithm (in the fma that forms it; the scalar kernel floors with a maximum), which
     * changes only classes whose probabilities are both below about 1e-31, by less than 1.2e-38 in
     * {@code m}.
     */
    static double jsd(VectorRowKernel k, int c, float ms, float mt, double tau, double beta, boolean wantGrad,
                      double gw) {
        float[] s = k.s;
        float[] p = k.p;
        float[] q = k.q;
        float[] u = p; // over p, read at each class before, as VectorTvdTerm: two row buffers, not three
        // as the load pass's pair term, on off-heap rows: the student's logits from the batch's buffer
        // (the load pass copies them only for other terms, LoadedRows), else from the row buffer
        boolean direct = k.presetSums();
        ByteBuffer sb = direct ? k.loaded.student() : null;
        int sat = direct ? k.loaded.studentAt() : 0;
        double[] z = k.pairExps(c, ms, mt, tau, -1);
        int up = S.loopBound(c);
        float inv = (float) (1 / tau);
        double lzs = Math.log(z[1]);
        double kl = z[2] / (tau * z[0]) - (mt / tau + Math.log(z[0])) + (ms / tau + lzs);
        double bt = beta / z[0];
        double bs = (1 - beta) / z[1];
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vms = FloatVector.broadcast(S, ms);
        FloatVector nlzs = FloatVector.broadcast(S, (float) -lzs);
        FloatVector vbt = FloatVector.broadcast(S, (float) bt);
        FloatVector vbs = FloatVector.broadcast(S, (float) bs);
        FloatVector tiny = FloatVector.broadcast(S, Float.MIN_NORMAL);
        double sp = 0;
        double sq = 0;
        for (int j0 = 0; j0 < up; j0 += RowKernel.BLOCK) {
            int end = Math.min(up, j0 + RowKernel.BLOCK);
            FloatVector ap = FloatVector.zero(S);
            FloatVector aq = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector pv = FloatVector.fromArray(S, p, j);
                FloatVector qv = FloatVector.fromArray(S, q, j);
                FloatVector logM = VectorLog.log(pv.fma(vbt, qv.fma(vbs, tiny)));
                FloatVector sv = direct ? FloatVector.fromByteBuffer(S, sb, 4 * (sat + j), ORDER)
                        : FloatVector.fromArray(S, s, j);
                FloatVector d = sv.sub(vms).fma(vinv, nlzs).sub(logM);
                FloatVector uj = qv.mul(d);
                uj.intoArray(u, j);
                aq = aq.add(uj);
                ap = pv.fma(d, ap);
            }
            sp += ap.reduceLanes(VectorOperators.ADD);
            sq += aq.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            double logM = Math.log(Math.max(bt * p[j] + bs * q[j], Float.MIN_NORMAL));
            double d = (s[j] - ms) * (double) inv - lzs - logM;
            double uj = q[j] * d;
            sp += p[j] * d; // before u[j], which is p[j]
            u[j] = (float) uj;
            sq += uj;
        }
        // u holds q (log q - log m) with q unnormalised: Σu = (1-β) sq / zs
        double su = bs * sq;
        if (wantGrad) {
            gradient(k, c, (float) (-gw * su / z[1]), (float) (gw * bs));
        }
        return beta * kl + bt * sp + su;
    }

    /**
     * {@code g = kq q + ku u} from the {@code u} the value loop stored. A method of its own: in the value
     * loop's compilation C2 ran out of nodes before inlining {@code store} and boxed its vector.
     */
    private static void gradient(VectorRowKernel k, int c, float kq, float ku) {
        k.addScaled(c, kq, k.p, ku); // u, stored over p
    }
}
