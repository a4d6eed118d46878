package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.RowKernel.TIE;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The total variation distance in the Vector API kernel, on the row buffers of a {@link VectorRowKernel};
 * loaded only through it. Formulas as {@link ScalarRowKernel}'s {@code totalVariation}.
 */
final class VectorTvdTerm {
    private VectorTvdTerm() {
    }

    /**
     * 0.5 Σ|q - p|; gradient gw (u - q Σu), u = 0.5 q sign(q - p), which the value loop stores over
     * {@code p} (read at each class before) for the gradient: the loop and the next row's load pass, which
     * evaluates a held gradient ({@link LazyGradient}), then touch two row buffers, not three. A term after
     * this one takes its exponentials again ({@link VectorRowKernel#pairExps}). In its own buffer
     * {@code k.u}, TVD took 1.10–1.17 times as long at 2048 × 32000 (docs/performance-log.md, "Kernel CPU
     * time", thirteenth round).
     */
    static double tvd(VectorRowKernel k, int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        float[] p = k.p;
        float[] q = k.q;
        float[] u = p;
        double[] z = k.pairExps(c, ms, mt, tau, -1);
        int up = S.loopBound(c);
        FloatVector vis = FloatVector.broadcast(S, (float) (1 / z[1]));
        FloatVector vit = FloatVector.broadcast(S, (float) (1 / z[0]));
        FloatVector half = FloatVector.broadcast(S, 0.5f);
        double sum = 0;
        double su = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector asum = FloatVector.zero(S);
            FloatVector asu = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector qv = FloatVector.fromArray(S, q, j).mul(vis);
                FloatVector d = qv.sub(FloatVector.fromArray(S, p, j).mul(vit));
                FloatVector ad = d.abs();
                asum = asum.add(ad);
                FloatVector uj = signed(qv.mul(half), d, ad);
                uj.intoArray(u, j);
                asu = asu.add(uj);
            }
            sum += asum.reduceLanes(VectorOperators.ADD);
            su += asu.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            double qj = q[j] / z[1];
            double d = qj - p[j] / z[0];
            sum += Math.abs(d);
            double uj = 0.5 * qj * RowKernel.tieSign(d);
            u[j] = (float) uj;
            su += uj;
        }
        if (wantGrad) {
            // gw (u - q Σu) = gw u - (gw Σu / zs) q, from the u the value loop stored
            k.addScaled(c, (float) (-gw * su / z[1]), u, (float) gw);
        }
        return 0.5 * sum;
    }

    /**
     * {@code h sign(d)} for {@code h >= 0}, with {@code sign = 0} where {@code |d| <= TIE} ({@code ad} is
     * {@code |d|}): {@code d}'s sign bit put onto {@code h}, one compare and one blend (a sign vector of
     * {@code ±1} and 0 took two of each and a multiplication).
     */
    private static FloatVector signed(FloatVector h, FloatVector d, FloatVector ad) {
        IntVector bits = ((IntVector) h.reinterpretAsInts())
                .or(((IntVector) d.reinterpretAsInts()).and(Integer.MIN_VALUE));
        return FloatVector.zero(S).blend(bits.reinterpretAsFloats(), ad.compare(VectorOperators.GT, (float) TIE));
    }
}
