package io.kd4j.losses.kernels;

import static io.kd4j.losses.kernels.RowKernel.BLOCK;
import static io.kd4j.losses.kernels.VectorRowKernel.L;
import static io.kd4j.losses.kernels.VectorRowKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Cross-entropy with hard labels (and label smoothing) in the Vector API kernel, on the row buffers of a
 * {@link VectorRowKernel}; loaded only through it. Formulas as {@link ScalarRowKernel}'s {@code crossEntropy}.
 *
 * <p>Hinton's objective {@code a·CrossEntropy + b·SoftTargetKl(T)} takes the student's softmax at two
 * temperatures. When the KL term is evaluated just before the cross-entropy and {@code T} is an integer
 * {@code n} from 1 to {@value RowKernel#MAX_POWER}, the cross-entropy does not compute exponentials of its own
 * ({@link #fromPowers}): the KL term left {@code q = exp(fl((s - f) / n))} in the row buffer, and
 * {@code q^n = exp(s - f)} is the cross-entropy's unnormalised softmax, shifted by {@code f} (a product of
 * {@code n - 1} or fewer multiplications instead of an exponential per class). The KL term's gradient is
 * then added in the cross-entropy's gradient pass, so the row's gradient takes one pass for both terms.
 * When KD's exponentials come from the fused load pass ({@link VectorPairLoad}), that pass also adds up
 * {@code Σ q^n} (the same float-lane sums per block as this class's loop, so the same value). When the two
 * terms (KD or DKD, and the cross-entropy) are the whole objective there, the gradient pass is left out too:
 * the gradient {@code kp p + kn q^n + kq q + off}, with the label's (and DKD's target's) additions, is held
 * as its formula ({@link LazyGradient#power}), which the next row's load pass evaluates as it writes.
 * The powers are used only while {@code max(s) - f <= }{@value #SHIFT_LIMIT} (the KL term's shift is a
 * guess below the maximum, {@link VectorPairLoad}), so that {@code q^n} and its sums stay finite floats.
 * Classes more than about 87 below {@code f} get {@code q^n} below the float floor (0 or subnormal) where
 * the cross-entropy's own exponential is floored at {@code 1.2e-38}: a difference below that floor per
 * class, next to a normaliser of at least 1.
 *
 * <p>DKD ({@code CrossEntropy + Dkd(T)}, mdistiller's recipe) does the same with its non-target
 * exponentials: its {@code q} is 0 at the target class and shifted by its non-target shift {@code f}, so
 * the cross-entropy adds {@code exp(s_y - f)} for the target to its sum and the target's gradient, and DKD's
 * own gradient at the target ({@code deferTargetDelta}) goes in with it.
 */
final class VectorCrossEntropyTerm {
    /** The largest {@code max(s) - f} for which {@code q^n = exp(s - f)} is used (e^80 = 5.5e34). */
    static final float SHIFT_LIMIT = 80f;

    private VectorCrossEntropyTerm() {
    }

    /**
     * The integer temperature {@code n} of a soft-target KL or DKD term evaluated first in a row when a
     * cross-entropy term is evaluated second (the row's order: the fused load pass's term {@code pair}
     * first, if any, then the rest in order), neither standardized ({@link RowKernel#powerOf}); else 0.
     * The first term still declines when the student maximum is more than {@value #SHIFT_LIMIT} above its
     * shift ({@link #defer}).
     */
    static int companionPower(Batch b, int pair) {
        FusedTerm[] terms = b.terms;
        if (terms.length < 2) {
            return 0;
        }
        FusedTerm first = terms[pair < 0 ? 0 : pair];
        FusedTerm.Kind kind = first.kind();
        return kind == FusedTerm.Kind.SOFT_TARGET_KL || kind == FusedTerm.Kind.DKD
                ? RowKernel.powerOf(first, terms[pair < 0 ? 1 : pair >= 1 ? 0 : 1]) : 0;
    }

    /**
     * For the term evaluated first while {@code k.cePower} is set: hands its gradient {@code kq q + kp p} (and
     * {@code targetDelta} at class {@code target}, -1 for none) and the shift of its {@code q} to the
     * cross-entropy evaluated next, and returns true; or, when the row's student maximum is more than
     * {@value #SHIFT_LIMIT} above {@code shift} ({@code q^n} would not stay finite), clears {@code k.cePower}
     * and returns false: the term adds its own gradient.
     */
    static boolean defer(VectorRowKernel k, float shift, float kq, float kp, int target, float targetDelta) {
        if (k.cePower == 0) {
            return false;
        }
        if (k.studentMax - shift > SHIFT_LIMIT) {
            k.cePower = 0;
            k.loadPower = 0;
            k.lazyOk = false; // the cross-entropy writes its own gradient, after this term's
            return false;
        }
        k.qShift = shift;
        k.deferQ = kq;
        k.deferP = kp;
        k.deferTarget = target;
        k.deferTargetDelta = targetDelta;
        return true;
    }

    /** -Σ y log softmax(s), y = (1-e) onehot + e/C; gradient softmax(s) - y. */
    static double crossEntropy(VectorRowKernel k, int c, float ms, int label, double e, boolean wantGrad, double gw) {
        k.loaded.fill(k.t, k.s); // a cross-entropy that was to take KD's powers finds the rows left out (LoadedRows)
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

    /**
     * {@link #crossEntropy} with {@code q^n} ({@code n = k.cePower}) as its exponentials, shifted by
     * {@code k.qShift}, the first term's, and that term's gradient {@code deferQ · q + deferP · p} (and, for
     * DKD, {@code deferTargetDelta} at its target, whose {@code q} is 0 and whose exponential is taken here)
     * added in the same gradient pass; clears {@code k.cePower}.
     */
    static double fromPowers(VectorRowKernel k, int c, int label, double e, boolean wantGrad, double gw) {
        int n = k.cePower;
        k.cePower = 0;
        float[] q = k.q;
        float[] p = k.p;
        float[] s = k.s;
        float[] g = k.g;
        int up = S.loopBound(c);
        // Σ q^n: from the load pass when it took it (the same sum, VectorPairLoad.both), else here
        boolean loaded = k.loadPower == n;
        k.loadPower = 0;
        double z = loaded ? k.powerSum : 0;
        for (int j0 = 0; j0 < (loaded ? 0 : up); j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector az = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                az = az.add(power(FloatVector.fromArray(S, q, j), n));
            }
            z += az.reduceLanes(VectorOperators.ADD);
        }
        for (int j = loaded ? c : up; j < c; j++) {
            z += power(q[j], n);
        }
        // DKD left its target class out of q: its exponential is added here
        int y = k.deferTarget;
        double ey = y >= 0 ? Math.exp((double) k.loaded.studentLogit(s, y) - k.qShift) : 0.0;
        z += ey;
        double sum = 0;
        if (e > 0 && k.loadSum) {
            sum = k.studentSum; // the load pass's Σ s (VectorPairLanes#powers), the row left out of s
        } else if (e > 0) {
            k.loaded.fill(k.t, k.s);
            sum = VectorSums.sum(s, c);
        }
        double uniform = e / c;
        double value = k.qShift + Math.log(z) - (1 - e) * k.loaded.studentLogit(s, label) - uniform * sum;
        if (wantGrad && k.hold(k.deferQ, p, k.deferP)) {
            // the objective's only two terms: the next row's load pass evaluates the formula
            k.lazy.power(n, (float) (gw / z), (float) (-gw * uniform));
            addAtLabels(k, label, e, y, ey, z, gw);
        } else if (wantGrad) {
            float kz = (float) (gw / z);
            float off = (float) (-gw * uniform);
            FloatVector vkz = FloatVector.broadcast(S, kz);
            FloatVector voff = FloatVector.broadcast(S, off);
            FloatVector vq = FloatVector.broadcast(S, k.deferQ);
            FloatVector vp = FloatVector.broadcast(S, k.deferP);
            boolean replace = k.first;
            for (int j = 0; j < up; j += L) {
                FloatVector qv = FloatVector.fromArray(S, q, j);
                FloatVector acc = replace ? voff : FloatVector.fromArray(S, g, j).add(voff);
                acc = power(qv, n).fma(vkz, qv.fma(vq, acc));
                k.store(FloatVector.fromArray(S, p, j).fma(vp, acc), j);
            }
            for (int j = up; j < c; j++) {
                k.store(j, (replace ? 0f : g[j]) + off + kz * power(q[j], n) + k.deferQ * q[j] + k.deferP * p[j]);
            }
            addAtLabels(k, label, e, y, ey, z, gw);
            k.first = false;
        }
        return value;
    }

    /** {@link #fromPowers}'s additions at the label and at DKD's target {@code y} (-1: none). */
    private static void addAtLabels(VectorRowKernel k, int label, double e, int y, double ey, double z, double gw) {
        k.addAt(label, (float) (-gw * (1 - e)));
        if (y >= 0) {
            k.addAt(y, (float) (gw * ey / z) + k.deferTargetDelta);
        }
    }

    /** {@code q^n}, {@code 1 <= n <= RowKernel.MAX_POWER}, by multiplications. */
    static FloatVector power(FloatVector q, int n) {
        if (n == 1) {
            return q;
        }
        FloatVector q2 = q.mul(q);
        if (n <= 3) {
            return n == 2 ? q2 : q2.mul(q);
        }
        FloatVector q4 = q2.mul(q2);
        return switch (n) {
            case 4 -> q4;
            case 5 -> q4.mul(q);
            case 6 -> q4.mul(q2);
            case 7 -> q4.mul(q2).mul(q);
            default -> q4.mul(q4);
        };
    }

    /** {@code q^n} for the scalar tail. */
    static float power(float q, int n) {
        float r = q;
        for (int i = 1; i < n; i++) {
            r *= q;
        }
        return r;
    }
}
