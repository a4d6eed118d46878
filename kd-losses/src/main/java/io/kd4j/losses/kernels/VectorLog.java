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
 * about 1 float ulp on this range), evaluated as {@code f + f² Q(f)} with {@code Q(f) = f P(f) - 1/2}, the
 * {@code f +} in one fma; then {@code e ln 2} is added by one fma with {@code ln 2} rounded to float. Q is
 * taken in powers of {@code f²} with pairs of coefficients ({@code (q0 + q1 f) + f² ((q2 + q3 f) + ...)}):
 * the same operations as Horner's scheme (nine fmas) with a dependency chain of five, not nine. Cephes, written for
 * machines without fma, splits off {@code -f²/2} and adds {@code e ln 2} in two parts; here that takes
 * four operations fewer. The float {@code ln 2} is 1.9e-9 off, so {@code e ln 2} is off by {@code |e|}
 * times that, below 0.1 ulp of the result since {@code |log x| >= (|e| - 1/2) ln 2}. Measured over every
 * float in [0.25, 4) and every 97th other normal float: at most 0.94 ulp (Cephes' order of operations:
 * 0.83). Zero, negative, subnormal, infinite and NaN
 * arguments are outside its domain and give meaningless lanes; the callers floor their arguments first.
 */
final class VectorLog {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    /** The bits of {@code (float) √½}. */
    private static final int SQRT_HALF_BITS = Float.floatToIntBits((float) Math.sqrt(0.5));
    private static final int MANTISSA = 0x007F_FFFF;
    /** {@code ln 2} rounded to float. */
    private static final float LN2 = 0.6931471805599453f;
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
        // f P(f) - 1/2 in powers of f² with pairs of coefficients: half the dependency chain of Horner's
        // scheme, with the same number of operations
        FloatVector a4 = FloatVector.broadcast(S, P0).fma(f, FloatVector.broadcast(S, P1));
        FloatVector a3 = FloatVector.broadcast(S, P2).fma(f, FloatVector.broadcast(S, P3));
        FloatVector a2 = FloatVector.broadcast(S, P4).fma(f, FloatVector.broadcast(S, P5));
        FloatVector a1 = FloatVector.broadcast(S, P6).fma(f, FloatVector.broadcast(S, P7));
        FloatVector a0 = FloatVector.broadcast(S, P8).fma(f, FloatVector.broadcast(S, -0.5f));
        FloatVector p = a4.fma(z, a3).fma(z, a2).fma(z, a1).fma(z, a0);
        // log = e ln2 + (f + f² (f P(f) - 1/2))
        return e.fma(FloatVector.broadcast(S, LN2), z.fma(p, f));
    }
}
