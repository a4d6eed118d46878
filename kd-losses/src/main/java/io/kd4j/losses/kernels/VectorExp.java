package io.kd4j.losses.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp} in float lanes for the arguments of a shifted softmax, inlined into the calling loop
 * instead of a call to {@code VectorOperators.EXP}, whose speed and accuracy depend on the JVM (on x86
 * the JDK can call SVML code). Its error is bounded and tested; at 2048 × 32000 the KD kernel's time
 * did not change measurably with it (the kernel is bound by its memory passes there; docs/performance.md).
 *
 * <p>The argument is clamped to {@code [EXP_FLOOR, 0]} first: the kernels shift every exponent by a
 * maximum, so their arguments are {@code <= 0}, except at classes that a term then sets to 0 itself
 * (DKD's target, the top-k classes of the sparse terms), which get {@code exp(0) = 1} here. The floor
 * is {@link VectorRowKernel#EXP_FLOOR} ({@code exp = 1.2e-38}), as before.
 *
 * <p>Method (Cody–Waite range reduction, as in Cephes' {@code expf}): {@code n = round(x log2 e)}
 * (by adding and subtracting {@code 1.5 · 2^23}), {@code r = x - n ln 2} with {@code ln 2} split in
 * two parts, {@code exp(r) = 1 + r + r² P(r)} with Cephes' degree-5 polynomial on
 * {@code |r| <= ln2 / 2}, and {@code 2^n} built in the exponent bits (the low bits of the rounded
 * float are {@code n}). Relative error about 1e-7, the same as float rounding of the exact value
 * ({@code VectorExpTest} compares it with {@link Math#exp} in double).
 */
final class VectorExp {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final FloatVector FLOOR = FloatVector.broadcast(S, VectorRowKernel.EXP_FLOOR);
    private static final FloatVector ZERO = FloatVector.zero(S);
    private static final FloatVector LOG2E = FloatVector.broadcast(S, 1.44269504088896341f);
    /** 1.5 · 2^23: adding it rounds a float in (-2^22, 2^22) to an integer held in the low mantissa bits. */
    private static final FloatVector ROUND = FloatVector.broadcast(S, 12582912f);
    private static final FloatVector MINUS_LN2_HI = FloatVector.broadcast(S, -0.693359375f);
    private static final FloatVector MINUS_LN2_LO = FloatVector.broadcast(S, 2.12194440e-4f);
    private static final FloatVector P0 = FloatVector.broadcast(S, 1.9875691500e-4f);
    private static final FloatVector P1 = FloatVector.broadcast(S, 1.3981999507e-3f);
    private static final FloatVector P2 = FloatVector.broadcast(S, 8.3334519073e-3f);
    private static final FloatVector P3 = FloatVector.broadcast(S, 4.1665795894e-2f);
    private static final FloatVector P4 = FloatVector.broadcast(S, 1.6666665459e-1f);
    private static final FloatVector P5 = FloatVector.broadcast(S, 5.0000001201e-1f);
    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);
    /** Turns the bits of {@code n + 1.5 · 2^23}, shifted left by 23, into the exponent bits of {@code 2^n}. */
    private static final IntVector BIAS = IntVector.broadcast(I, (127 - Float.floatToIntBits(12582912f)) << 23);

    private VectorExp() {
    }

    /** {@code exp(min(max(x, EXP_FLOOR), 0))} in every lane. */
    static FloatVector expClamped(FloatVector x) {
        FloatVector a = x.max(FLOOR).min(ZERO);
        FloatVector shifted = a.fma(LOG2E, ROUND);
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(MINUS_LN2_HI, a);
        r = n.fma(MINUS_LN2_LO, r);
        FloatVector p = P0.fma(r, P1).fma(r, P2).fma(r, P3).fma(r, P4).fma(r, P5);
        FloatVector e = p.fma(r.mul(r), r).add(ONE);
        IntVector scale = ((IntVector) shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).add(BIAS);
        return e.mul(scale.reinterpretAsFloats());
    }
}
