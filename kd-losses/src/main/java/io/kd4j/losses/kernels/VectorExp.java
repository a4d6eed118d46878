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
 *
 * <p>The constants are {@code float}s broadcast inside the method, not {@code static final} vectors,
 * which were slower: in a loop of this exponential alone (a throw-away micro-benchmark on this
 * project's 2-core machine, JDK 17) 0.75 ns per value with vector fields against 0.54 ns with
 * broadcasts. C2 hoists a broadcast out of the loop; the likely reason for the difference is that it
 * reads a field vector's lanes from the vector's array in every iteration.
 */
final class VectorExp {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 · 2^23: adding it rounds a float in (-2^22, 2^22) to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final float MINUS_LN2_HI = -0.693359375f;
    private static final float MINUS_LN2_LO = 2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Turns the bits of {@code n + 1.5 · 2^23}, shifted left by 23, into the exponent bits of {@code 2^n}. */
    private static final int BIAS = (127 - Float.floatToIntBits(ROUND)) << 23;

    private VectorExp() {
    }

    /** {@code exp(min(max(x, EXP_FLOOR), 0))} in every lane. */
    static FloatVector expClamped(FloatVector x) {
        FloatVector a = x.max(VectorRowKernel.EXP_FLOOR).min(0f);
        FloatVector shifted = a.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, MINUS_LN2_HI), a);
        r = n.fma(FloatVector.broadcast(S, MINUS_LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1))
                .fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        IntVector scale = ((IntVector) shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).add(BIAS);
        return e.mul(scale.reinterpretAsFloats());
    }
}
