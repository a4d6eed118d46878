package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;

/**
 * A held gradient ({@link LazyGradient}) evaluated into the row buffer in float lanes, for a chunk's last row,
 * which no next load pass writes out ({@link VectorRowKernel#finish}). Class by class
 * ({@link LazyGradient#writeInto}) that took about 2 % of LTKD's time and 3 % of a cross-entropy with KD's
 * at 2048 × 32000 (one row in 64 ends a chunk; JFR samples, docs/performance-log.md, "Kernel CPU time",
 * thirteenth round).
 */
final class VectorHeldGradient {
    private VectorHeldGradient() {
    }

    /** {@link LazyGradient#writeInto}: the held gradient of {@code c} classes into {@code g}; holds none after. */
    static void writeInto(LazyGradient h, float[] g, float[] q, int c) {
        int up = S.loopBound(c);
        if (h.blockGroup != null) {
            // LTKD: the blocks of one group take their group's constants; the others and the tail are in g
            for (int i = 0, j0 = 0; j0 < h.up; i++, j0 += RowKernel.BLOCK) {
                int gi = h.blockGroup[i];
                if (gi >= 0) {
                    span(g, q, h.x, j0, Math.min(h.up, j0 + RowKernel.BLOCK), h.groupKq[gi], h.groupKx[gi], 0, 0f,
                            0f);
                }
            }
        } else {
            span(g, q, h.x, 0, up, h.kq, h.kx, h.n, h.kn, h.off);
        }
        h.writeInto(g, q, up, c);
    }

    /**
     * {@code g = kq q + kx x + kn q^n + off} over {@code [j0, end)} ({@code n = 0}: without the power term), as
     * the load loops write it ({@link VectorPairLanes}): {@code kx x + (kn q^n + (kq q + off))} in fmas.
     */
    private static void span(float[] g, float[] q, float[] x, int j0, int end, float kq, float kx, int n, float kn,
                             float off) {
        FloatVector vq = FloatVector.broadcast(S, kq);
        FloatVector vx = FloatVector.broadcast(S, kx);
        FloatVector vn = FloatVector.broadcast(S, kn);
        FloatVector vo = FloatVector.broadcast(S, off);
        for (int j = j0; j < end; j += L) {
            FloatVector qv = FloatVector.fromArray(S, q, j);
            FloatVector rest = n > 0 ? VectorCrossEntropyTerm.power(qv, n).fma(vn, qv.fma(vq, vo)) : qv.mul(vq);
            FloatVector.fromArray(S, x, j).fma(vx, rest).intoArray(g, j);
        }
    }
}
