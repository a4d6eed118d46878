package io.kd4j.losses.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp} in float lanes for the arguments of a shifted softmax, inlined into the calling loop
 * instead of a call to {@code VectorOperators.EXP}, whose speed and accuracy depend on the JVM (on x86
 * the JDK can call SVML code). Its error is bounded and tested ({@code VectorExpTest}).
 *
 * <p>{@link #exp} takes the argument as {@code d · inv} (a logit minus the row's maximum, times
 * {@code 1/T}). The result is clamped to {@code [exp(EXP_FLOOR), 1]}: the kernels shift every exponent
 * by a maximum, so their arguments are {@code <= 0}, except at classes that a term then sets to 0
 * itself (DKD's target), which get {@code exp(0) = 1} here. The floor is
 * {@link VectorRowKernel#EXP_FLOOR} ({@code exp = 1.2e-38}, the last normal floats).
 *
 * <p>Method (Cody–Waite range reduction, as in Cephes' {@code expf}): {@code x = fl(d · inv)},
 * {@code n = round(d · (inv log2 e))} (by adding and subtracting {@code 1.5 · 2^23}),
 * {@code r = x - n ln 2} with {@code ln 2} split in two parts, {@code exp(r)} by a degree-6 polynomial
 * on {@code |r| <= ln2 / 2} with {@code p(0) = 1} (near-minimax for the relative error, fitted for this
 * class: about 2e-9 in exact arithmetic; the float evaluation adds about 1e-7), and {@code 2^n} added to
 * the result's exponent bits: the bits of the rounded float are those of {@code 1.5 · 2^23}
 * ({@code 0x4B400000}) plus {@code n}, and the former's low 9 bits are 0, so shifted left by 23 they
 * vanish and leave {@code n << 23}, with no constant to take off (valid while {@code exp(r) · 2^n} is a
 * normal float, which it is for {@code x >= EXP_FLOOR}). Relative error about 1e-7, the same as float
 * rounding of the exact value.
 *
 * <p>Written for speed on a 2-core AVX2 machine (docs/performance.md): the exponential's dependency
 * chain sets the speed of the kernels' exponential loops, so nothing but arithmetic sits on it.
 * <ul>
 *   <li>The clamps are compares and blends at the end, not {@code FloatVector.max/min} on the argument:
 *       those follow Java's NaN and signed-zero rules, which C2 builds from five instructions each on
 *       AVX2; lanes outside the range compute garbage that the blends replace.</li>
 *   <li>{@code n} comes from {@code d} by one fma, not from {@code x}, which takes the multiplication
 *       off the chain; the degree-6 Horner polynomial is two operations shorter than Cephes'
 *       {@code 1 + r + r² P(r)}.</li>
 *   <li>The constants are {@code float}s broadcast inside the method, not {@code static final} vectors,
 *       which were slower (C2 reads a field vector's lanes from its array in every iteration).</li>
 * </ul>
 */
final class VectorExp {
    private static final VectorSpecies<Float> S = VectorRowKernel.S;
    /** 1.5 · 2^23: adding it rounds a float in (-2^22, 2^22) to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final float MINUS_LN2_HI = -0.693359375f;
    private static final float MINUS_LN2_LO = 2.12194440e-4f;
    /** exp(r) = 1 + r (C1 + r (C2 + ... + r C6)), |r| <= ln2 / 2. */
    private static final float C1 = 1.0f;
    private static final float C2 = 0.4999999403953552f;
    private static final float C3 = 0.16666431725025177f;
    private static final float C4 = 0.04166800156235695f;
    private static final float C5 = 0.00837415549904108f;
    private static final float C6 = 0.0013843653723597527f;
    /** The value below the floor: {@code exp(EXP_FLOOR)}, a normal float. */
    static final float AT_FLOOR = (float) Math.exp(VectorRowKernel.EXP_FLOOR);

    private VectorExp() {
    }

    /**
     * {@code exp(min(max(fl(d · inv), EXP_FLOOR), 0))} in every lane; {@code invLog2e} is
     * {@code inv · log2 e} rounded to float ({@link #log2e(float)}).
     */
    static FloatVector exp(FloatVector d, FloatVector inv, FloatVector invLog2e) {
        FloatVector x = d.mul(inv);
        VectorMask<Float> high = x.compare(VectorOperators.GT, 0f);
        return unclamped(x, d, invLog2e).blend(1f, high);
    }

    /**
     * {@code exp(max(fl(d · inv), EXP_FLOOR))} for arguments up to 88 ({@code 2^n} must stay a normal
     * float; above that the lanes are not meaningful, and {@link VectorPairLoad}, the caller, checks its
     * arguments' bound after the pass). For exponentials shifted by less than the row maximum.
     */
    static FloatVector expShifted(FloatVector d, FloatVector inv, FloatVector invLog2e) {
        return unclamped(d.mul(inv), d, invLog2e);
    }

    /** The exponential of {@code x = fl(d · inv)}, floored at {@code exp(EXP_FLOOR)}, not capped. */
    private static FloatVector unclamped(FloatVector x, FloatVector d, FloatVector invLog2e) {
        VectorMask<Float> low = x.compare(VectorOperators.LT, VectorRowKernel.EXP_FLOOR);
        FloatVector shifted = d.fma(invLog2e, FloatVector.broadcast(S, ROUND));
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, MINUS_LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, MINUS_LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, C6).fma(r, FloatVector.broadcast(S, C5))
                .fma(r, FloatVector.broadcast(S, C4)).fma(r, FloatVector.broadcast(S, C3))
                .fma(r, FloatVector.broadcast(S, C2)).fma(r, FloatVector.broadcast(S, C1))
                .fma(r, FloatVector.broadcast(S, 1f));
        IntVector scale = ((IntVector) shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
        FloatVector e = ((IntVector) p.reinterpretAsInts()).add(scale).reinterpretAsFloats();
        return e.blend(AT_FLOOR, low);
    }

    /**
     * The bits of {@code fl(d · invLog2e) + 1.5 · 2^23}, the first step of {@link #expShifted}'s exponential
     * (the same expression, which C2 computes once): they grow with the argument (NaN and +inf above all), and
     * for {@code |n| < 2^22} hold ({@link #integerPartOf}) its integer part {@code n} in {@code log2} units.
     */
    static IntVector integerPart(FloatVector d, FloatVector invLog2e) {
        return (IntVector) d.fma(invLog2e, FloatVector.broadcast(S, ROUND)).reinterpretAsInts();
    }

    /** The integer part {@code n} that {@link #integerPart}'s bits hold ({@code MIN_VALUE} stays itself). */
    static int integerPartOf(int bits) {
        return bits == Integer.MIN_VALUE ? bits : bits - Float.floatToRawIntBits(ROUND);
    }

    /** {@code inv · log2 e} rounded to float, the third argument of {@link #exp}. */
    static float log2e(float inv) {
        return (float) (inv * 1.4426950408889634); // log2(e)
    }
}
