package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The inlined {@code exp} of the float32 vector kernel against {@link Math#exp} in double. It needs
 * {@code jdk.incubator.vector}, so it runs in the {@code vector-kernels} execution and is skipped in
 * the default one; the vector calls sit in {@link Lanes}, which is loaded only after that check.
 */
class VectorExpTest {
    /** The method is within about 1e-7; 3e-7 is 2.5 float ulps at 1, still far from a wrong polynomial. */
    private static final double RELATIVE = 3e-7;

    @BeforeEach
    void needsTheModule() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "no jdk.incubator.vector");
    }

    @Test
    void givenArgumentsOverTheWholeRange_whenExponentiated_thenWithinFloatRoundingOfTheDoubleExp() {
        // Given a dense grid over [-87.3, 0] (every 1/1024), the points k ln2 and k ln2 / 2 where the
        // range reduction switches n, and random arguments
        Random rnd = new Random(17);
        int grid = 87 * 1024 + 307;
        float[] x = new float[grid + 2 * 252 + 10_000];
        int at = 0;
        for (int i = 0; i < grid; i++) {
            x[at++] = -i / 1024f;
        }
        for (int k = 0; k < 126; k++) {
            x[at++] = (float) (-k * Math.log(2));
            x[at++] = (float) (-k * Math.log(2) - Math.log(2) / 2);
            x[at++] = (float) (-(k + 0.5) * Math.log(2)) + 1e-6f;
            x[at++] = (float) (-(k + 0.5) * Math.log(2)) - 1e-6f;
        }
        while (at < x.length) {
            x[at++] = (float) (-87.3 * rnd.nextDouble());
        }
        // When exponentiated in lanes
        float[] e = Lanes.exp(x);
        // Then each value is within float rounding of exp in double
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = Math.exp(Math.max(x[i], VectorRowKernel.EXP_FLOOR));
            double rel = Math.abs(e[i] - exact) / exact;
            worst = Math.max(worst, rel);
            assertTrue(rel <= RELATIVE, "exp(" + x[i] + ") = " + e[i] + ", exact " + exact + ", relative error " + rel);
        }
        assertTrue(worst > 0, "a float result cannot equal every double exactly");
    }

    @Test
    void givenArgumentsOutsideTheRange_whenExponentiated_thenClampedToTheFloorAndToZero() {
        // Given arguments below the floor (-inf: a float difference of two logits can overflow), at it,
        // at 0 and above 0 (DKD's target), in one vector's worth and more so every lane sees each case
        float[] x = {Float.NEGATIVE_INFINITY, -1e30f, -200f, -87.31f, VectorRowKernel.EXP_FLOOR,
            -0f, 0f, 1e-30f, 3f, 89f, 500f, 1e30f, Float.POSITIVE_INFINITY};
        // When exponentiated
        float[] e = Lanes.exp(x);
        // Then below the floor gives exp(EXP_FLOOR) = 1.2e-38 (a normal float), above 0 gives exp(0) = 1
        double atFloor = Math.exp(VectorRowKernel.EXP_FLOOR);
        for (int i = 0; i < 5; i++) {
            assertEquals(atFloor, e[i], atFloor * RELATIVE, "exp(" + x[i] + ")");
            assertTrue(e[i] >= Float.MIN_NORMAL, "normal float at the floor: " + e[i]);
        }
        for (int i = 5; i < x.length; i++) {
            assertEquals(1f, e[i], 0f, "exp(clamped " + x[i] + ")");
        }
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(floats = {0.5f, 1f / 3, 2f, 4f, 10f})
    void givenLogitDifferencesAndATemperature_whenExponentiated_thenWithinFloatRoundingOfExpOfTheirQuotient(float tau) {
        // Given differences d = logit - max in [-87.3 T, 0] (a dense grid and random values) and inv = 1/T:
        // the exponent is taken from d (n = round(d · inv log2 e)), the reduction from x = fl(d · inv)
        Random rnd = new Random(23);
        float inv = 1 / tau;
        float[] d = new float[40_000];
        for (int i = 0; i < d.length; i++) {
            d[i] = i < 20_000 ? -i * 87.3f * tau / 20_000 : (float) (-87.3 * tau * rnd.nextDouble());
        }
        // When exponentiated in lanes
        float[] e = Lanes.exp(d, inv);
        // Then each value is within float rounding of exp(fl(d · inv)) in double
        assertWithinRounding(d, tau, e);
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(floats = {1f, 4f})
    void givenArgumentsAboveZeroUpToTheShiftLimit_whenExponentiatedUnclamped_thenWithinFloatRoundingOfTheDoubleExp(
            float tau) {
        // Given d / T over [-87.3, SHIFT_LIMIT] (the arguments of VectorPairLoad's guessed shifts): a grid
        // of every 1/64 in [0, 64], the points k ln2 where n switches, and random arguments below 0
        Random rnd = new Random(29);
        float inv = 1 / tau;
        int grid = 64 * 64 + 1;
        float[] d = new float[grid + 93 + 5_000];
        int at = 0;
        for (int i = 0; i < grid; i++) {
            d[at++] = i / 64f * tau;
        }
        for (int k = 0; k < 93; k++) {
            d[at++] = (float) (k * Math.log(2)) * tau;
        }
        while (at < d.length) {
            d[at++] = (float) (-87.3 * tau * rnd.nextDouble());
        }
        // When exponentiated without the cap at 1
        float[] e = Lanes.expShifted(d, inv);
        // Then each value is within float rounding of exp(fl(d · inv)) in double, up to e^64 = 6.2e27
        assertWithinRounding(d, tau, e);
        assertEquals(Math.exp(VectorPairLoad.SHIFT_LIMIT), e[grid - 1], Math.exp(64) * RELATIVE, "exp(64)");
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(floats = {1f, 4f})
    void givenArgumentsAroundTheShiftLimit_whenTakingTheirIntegerParts_thenTheRoundedLog2UnitsAndTheLimitHolds(
            float tau) {
        // Given d with d / T from -3e6 to +3e6 (log2 units -4.3e6 to 4.3e6, beyond the 2^22 that the rounding
        // constant's mantissa holds exactly), around VectorBoundedLanes' limit (91 log2 units = 63.08 natural
        // units), and NaN and +inf
        float[] args = {-3e6f, -1000f, -87.5f, -0.5f, 0f, 0.3466f, 63.0f, 63.4f, 63.43f, 63.5f, 64f, 64.1f, 88.8f, 1e4f,
            3e6f};
        float[] d = new float[args.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = args[i] * tau;
        }
        float il = VectorExp.log2e(1 / tau);
        // When their integer parts are taken in lanes
        int[] n = Lanes.integerParts(d, il);
        // Then within ±2^22 each is d · (log2 e / T) rounded to the nearest integer (ties to even, as the
        // float addition rounds), beyond it they still grow with d, and 91 is the last one whose argument
        // stays within the shift limit
        for (int i = 0; i < d.length; i++) {
            double exact = Math.rint((double) (d[i] * il));
            if (Math.abs(exact) < (1 << 22)) {
                assertEquals(exact, n[i], 0.0, "integer part of " + args[i] + " at T = " + tau);
            }
            if (i > 0) {
                assertTrue(n[i] >= n[i - 1], "not growing at " + args[i]);
            }
            boolean within = n[i] <= VectorBoundedLanes.LIMIT_LOG2;
            assertTrue(!within || args[i] <= VectorPairLoad.SHIFT_LIMIT, "limit passes " + args[i]);
        }
        int[] bad = Lanes.integerParts(new float[] {Float.NaN, Float.POSITIVE_INFINITY}, il);
        assertTrue(bad[0] > VectorBoundedLanes.LIMIT_LOG2 && bad[1] > VectorBoundedLanes.LIMIT_LOG2, "NaN, +inf");
    }

    /** Each {@code e[i]} within {@link #RELATIVE} of {@code exp(max(fl(d[i] / T), EXP_FLOOR))} in double. */
    private static void assertWithinRounding(float[] d, float tau, float[] e) {
        float inv = 1 / tau;
        for (int i = 0; i < d.length; i++) {
            float x = d[i] * inv;
            double exact = Math.exp(Math.max(x, VectorRowKernel.EXP_FLOOR));
            double rel = Math.abs(e[i] - exact) / exact;
            assertTrue(rel <= RELATIVE, "exp(" + d[i] + " / " + tau + ") = " + e[i] + ", exact " + exact
                    + ", relative error " + rel);
        }
    }

    /** The vector calls, in a class of their own so that the test class loads without the module. */
    private static final class Lanes {
        static float[] exp(float[] x) {
            return exp(x, 1f);
        }

        static float[] exp(float[] x, float inv) {
            return lanes(x, inv, false);
        }

        static float[] expShifted(float[] x, float inv) {
            return lanes(x, inv, true);
        }

        static int[] integerParts(float[] x, float il) {
            int l = VectorRowKernel.L;
            float[] padded = new float[(x.length + l - 1) / l * l];
            System.arraycopy(x, 0, padded, 0, x.length);
            int[] bits = new int[padded.length];
            FloatVector vil = FloatVector.broadcast(VectorRowKernel.S, il);
            for (int j = 0; j < padded.length; j += l) {
                VectorExp.integerPart(FloatVector.fromArray(VectorRowKernel.S, padded, j), vil).intoArray(bits, j);
            }
            int[] n = new int[x.length];
            for (int i = 0; i < n.length; i++) {
                n[i] = VectorExp.integerPartOf(bits[i]);
            }
            return n;
        }

        private static float[] lanes(float[] x, float inv, boolean shifted) {
            int l = VectorRowKernel.L;
            float[] padded = new float[(x.length + l - 1) / l * l];
            System.arraycopy(x, 0, padded, 0, x.length);
            float[] out = new float[padded.length];
            FloatVector vinv = FloatVector.broadcast(VectorRowKernel.S, inv);
            FloatVector vil = FloatVector.broadcast(VectorRowKernel.S, VectorExp.log2e(inv));
            for (int j = 0; j < padded.length; j += l) {
                FloatVector d = FloatVector.fromArray(VectorRowKernel.S, padded, j);
                (shifted ? VectorExp.expShifted(d, vinv, vil) : VectorExp.exp(d, vinv, vil)).intoArray(out, j);
            }
            float[] e = new float[x.length];
            System.arraycopy(out, 0, e, 0, x.length);
            return e;
        }
    }
}
