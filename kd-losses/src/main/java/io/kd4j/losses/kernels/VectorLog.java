package io.kd4j.losses.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code log} in float lanes for positive normal floats (the JSD kernel's mixture probabilities,
 * floored at {@link Float#MIN_NORMAL}), inlined into the calling loop instead of a call to
 * {@code VectorOperators.LOG}. On x86 JDK 17 calls SVML code ({@code libjsvml}) for that operation, a
 * call out of the loop; with this method the JSD kernel's best calls at 2048 × 32000 were 10–15 %
 * faster on this project's machine (docs/performance.md). Its error is bounded and tested
 * ({@code VectorLogTest}).
 *
 * <p>Method (as in Cephes' {@code logf}): {@code x = 2^e m} with {@code m} in {@code [√½, √2)}, taken from
 * the bits: subtracting the bits of {@code √½} puts the exponent {@code e} in the high bits and the
 * mantissa offset in the low 23, which are added back to the bits of {@code √½}. With {@code f = m - 1}
 * (exact), {@code log(1 + f) = f - f²/2 + f³ P(f)}, P of degree 8 (Cephes' coefficients, relative error
 * about 1 float ulp on this range), and {@code e ln 2} is added in two parts (hi with 9 significant bits,
 * so {@code e · hi} is exact for every float exponent). Zero, negative, subnormal, infinite and NaN
 * arguments are outside its domain and give meaningless lanes; the callers floor their arguments first.
 */
final class VectorLog {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    /** The bits of {@code (float) √½}. */
    private static final int SQRT_HALF_BITS = Float.floatToIntBits((float) Math.sqrt(0.5));
    private static final int MANTISSA = 0x007F_FFFF;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 7.0376836292e-2f;
    private static final float P1 = -1.1514610310e-1f;
    private static final float P2 = 1.1676998740e-1f;
    private static final float P3 = -1.2420140846e-1f;
    private static final float P4 = 1.4249322787e-1f;
    private static final float P5 = -1.6668057665e-1f;
    private static final float P6 = 2.0000714765e-1f;
    private static final float P7 = -2.4999993993e-1f;
    private static final float P8 = 3.3333331174e-1f;

    private VectorLog() {
    }

    /** {@code log(x)} in every lane, for positive normal finite {@code x}. */
    static FloatVector log(FloatVector x) {
        IntVector offset = ((IntVector) x.reinterpretAsInts()).sub(SQRT_HALF_BITS);
        FloatVector e = (FloatVector) offset.lanewise(VectorOperators.ASHR, 23).convert(VectorOperators.I2F, 0);
        FloatVector m = offset.and(MANTISSA).add(SQRT_HALF_BITS).reinterpretAsFloats();
        FloatVector f = m.sub(1f);
        FloatVector z = f.mul(f);
        FloatVector p = FloatVector.broadcast(S, P0).fma(f, FloatVector.broadcast(S, P1))
                .fma(f, FloatVector.broadcast(S, P2)).fma(f, FloatVector.broadcast(S, P3))
                .fma(f, FloatVector.broadcast(S, P4)).fma(f, FloatVector.broadcast(S, P5))
                .fma(f, FloatVector.broadcast(S, P6)).fma(f, FloatVector.broadcast(S, P7))
                .fma(f, FloatVector.broadcast(S, P8));
        // y = f³ P(f) + e ln2_lo - f²/2, then log = f + y + e ln2_hi
        FloatVector y = f.mul(z).fma(p, e.mul(LN2_LO)).sub(z.mul(0.5f));
        return e.fma(FloatVector.broadcast(S, LN2_HI), f.add(y));
    }
}
