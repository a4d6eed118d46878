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
 * The inlined {@code log} of the float32 vector kernel against {@link Math#log} in double. It needs
 * {@code jdk.incubator.vector}, so it runs in the {@code vector-kernels} execution and is skipped in
 * the default one; the vector calls sit in {@link Lanes}, which is loaded only after that check.
 *
 * <p>The bound is in float ulps of the exact result, {@code ulp(fl(log x))}, so that near x = 1, where
 * log x is tiny, the error is measured against its own size.
 */
class VectorLogTest {
    /** The method is within about 1 ulp (Cephes' logf); 2 ulps still fails a wrong coefficient or split. */
    private static final double ULPS = 2;

    @BeforeEach
    void needsTheModule() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "no jdk.incubator.vector");
    }

    @Test
    void givenPositiveNormalFloatsOverTheWholeRange_whenLogged_thenWithinTwoUlpsOfTheDoubleLog() {
        // Given every float exponent from MIN_NORMAL to MAX_VALUE with 64 mantissas each (the grid spans
        // each binade's ends, where the reduction switches e), the neighbours of √½, 1 and √2, and random
        // floats in (0, 1], where the JSD kernel's mixture probabilities lie
        Random rnd = new Random(31);
        float[] x = new float[254 * 64 + 3 * 41 + 20_000];
        int at = 0;
        for (int e = -126; e <= 127; e++) {
            for (int k = 0; k < 64; k++) {
                int mantissa = k == 63 ? 0x7F_FFFF : k << 17 | rnd.nextInt(1 << 17);
                x[at++] = Float.intBitsToFloat((e + 127) << 23 | mantissa);
            }
        }
        for (float centre : new float[] {(float) Math.sqrt(0.5), 1f, (float) Math.sqrt(2)}) {
            for (int d = -20; d <= 20; d++) {
                x[at++] = Float.intBitsToFloat(Float.floatToIntBits(centre) + d);
            }
        }
        while (at < x.length) {
            x[at++] = Math.max(Float.MIN_NORMAL, (float) Math.exp(-87.3 * rnd.nextDouble()));
        }
        // When logged in lanes
        float[] y = Lanes.log(x);
        // Then each value is within 2 float ulps of log in double
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = Math.log(x[i]);
            double ulps = Math.abs(y[i] - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= ULPS, "log(" + x[i] + ") = " + y[i] + ", exact " + exact + ", " + ulps + " ulps");
        }
        assertTrue(worst > 0, "a float result cannot equal every double exactly");
    }

    @ParameterizedTest(name = "x = {0}")
    @ValueSource(floats = {1f, 2f, 0.5f, 4f, 0.25f, Float.MIN_NORMAL, Float.MAX_VALUE})
    void givenPowersOfTwoAndTheRangeEnds_whenLogged_thenWithinAnUlpOfTheExactValue(float x) {
        // Given x = 2^e: e ln2 comes from the two-part ln2 alone (f = 0), log 1 = 0 exactly
        // When logged in every lane
        float[] y = Lanes.log(new float[] {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x});
        // Then every lane is log x in double to within one float ulp
        double exact = Math.log(x);
        for (float v : y) {
            assertEquals(exact, v, x == 1f ? 0 : Math.ulp((float) exact), "log(" + x + ")");
        }
    }

    /** The vector calls, in a class of their own so that the test class loads without the module. */
    private static final class Lanes {
        static float[] log(float[] x) {
            int l = VectorRowKernel.L;
            float[] padded = new float[(x.length + l - 1) / l * l];
            java.util.Arrays.fill(padded, 1f);
            System.arraycopy(x, 0, padded, 0, x.length);
            float[] out = new float[padded.length];
            for (int j = 0; j < padded.length; j += l) {
                VectorLog.log(FloatVector.fromArray(VectorRowKernel.S, padded, j)).intoArray(out, j);
            }
            float[] y = new float[x.length];
            System.arraycopy(out, 0, y, 0, x.length);
            return y;
        }
    }
}
