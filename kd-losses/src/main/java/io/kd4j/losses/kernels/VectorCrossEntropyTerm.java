package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Cross-entropy with hard labels (and label smoothing) in the Vector API kernel, on the row buffers of a
 * {@link VectorRowKernel}; loaded only through it. Formulas as {@link ScalarRowKernel}'s {@code crossEntropy}.
 */
final class VectorCrossEntropyTerm {
    private VectorCrossEntropyTerm() {
    }

    /** -Σ y log softmax(s), y = (1-e) onehot + e/C; gradient softmax(s) - y. */
    static double crossEntropy(VectorRowKernel k, int c, float ms, int label, double e, boolean wantGrad, double gw) {
        float[] s = k.s;
        float[] q = k.q;
        float[] g = k.g;
        int up = S.loopBound(c);
        FloatVector vms = FloatVector.broadcast(S, ms);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(1f));
        double z = 0;
        double sum = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector az = FloatVector.zero(S);
            FloatVector as = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector sv = FloatVector.fromArray(S, s, j);
                FloatVector b = VectorExp.exp(sv.sub(vms), one, vil);
                b.intoArray(q, j);
                az = az.add(b);
                as = as.add(sv);
            }
            z += az.reduceLanes(VectorOperators.ADD);
            sum += as.reduceLanes(VectorOperators.ADD);
        }
        for (int j = up; j < c; j++) {
            float b = VectorRowKernel.exp(s[j] - ms);
            q[j] = b;
            z += b;
            sum += s[j];
        }
        double lse = ms + Math.log(z);
        double uniform = e / c;
        double value = lse - (1 - e) * s[label] - uniform * sum;
        if (wantGrad) {
            FloatVector kz = FloatVector.broadcast(S, (float) (gw / z));
            FloatVector off = FloatVector.broadcast(S, (float) (-gw * uniform));
            boolean replace = k.first;
            for (int j = 0; j < up; j += L) {
                FloatVector acc = replace ? off : FloatVector.fromArray(S, g, j).add(off);
                k.store(FloatVector.fromArray(S, q, j).fma(kz, acc), j);
            }
            for (int j = up; j < c; j++) {
                k.store(j, (replace ? 0f : g[j]) + (float) (gw * (q[j] / z - uniform)));
            }
            k.addAt(label, (float) (-gw * (1 - e)));
            k.first = false;
        }
        return value;
    }
}
