package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link FiniteScan}: every NaN and ±Inf bit pattern at every kind of position (first, last, vector
 * body, scalar tail, chunk borders) is found, values just outside the range are not, and the finite
 * extremes pass. Each case runs the plain-Java scan and the one {@link FiniteScan#allFinite} selects
 * (the vector lanes in the {@code vector-kernels} execution, where {@code VectorFinite} is also called
 * directly).
 */
class FiniteScanTest {
    private static final float[] BAD_FLOATS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0xffffffff)};
    private static final float[] GOOD_FLOATS = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE,
        Float.MIN_NORMAL, 0f, -0f, 1e38f};

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (boolean float32 : new boolean[] {true, false}) {
            for (int n : new int[] {1, 3, 7, 8, 9, 31, 4095, 4096, 4097, 10_001}) {
                for (int from : new int[] {0, 5}) {
                    b.add(Arguments.of(float32, from, n));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "float32={0}, values [{1}, {1} + {2})")
    @MethodSource("cases")
    void givenOneBadValue_whenScanned_thenFoundInsideTheRangeOnly(boolean float32, int from, int n) {
        // Given a buffer of finite values with room before and after the range
        int size = float32 ? 4 : 8;
        int total = from + n + 3;
        ByteBuffer b = ByteBuffer.allocateDirect(size * total).order(ByteOrder.nativeOrder());
        for (int i = 0; i < total; i++) {
            put(b, i, float32, GOOD_FLOATS[i % GOOD_FLOATS.length]);
        }
        assertScans(b, from, n, float32, true);
        // When one bad value sits at a position inside, just before or just after the range
        int[] positions = {from, from + n - 1, from + n / 2, from + Math.max(0, n - 8), from + n - n % 8, from - 1,
            from + n};
        for (int pos : positions) {
            if (pos < 0 || pos > from + n) {
                continue;
            }
            for (float bad : BAD_FLOATS) {
                put(b, pos, float32, bad);
                // Then only a bad value inside the range makes the range non-finite
                boolean inside = pos >= from && pos < from + n;
                assertScans(b, from, n, float32, !inside);
                put(b, pos, float32, GOOD_FLOATS[pos % GOOD_FLOATS.length]);
            }
        }
    }

    @Test
    void givenAnEmptyRange_whenScanned_thenFinite() {
        ByteBuffer b = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        b.putFloat(0, Float.NaN);
        assertTrue(FiniteScan.allFinite(b, 1, 0, true));
    }

    @Test
    void givenABigEndianBuffer_whenScanned_thenReadInNativeOrder() {
        // the bytes of NaN in native order; the buffer object says big-endian
        ByteBuffer b = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        b.putFloat(20, Float.NaN);
        assertEquals(false, FiniteScan.allFinite(b.duplicate().order(ByteOrder.BIG_ENDIAN), 0, 16, true));
        assertEquals(true, FiniteScan.allFinite(b.duplicate().order(ByteOrder.BIG_ENDIAN), 6, 10, true));
    }

    @Test
    void givenABufferWithAPositionAndALimit_whenScanned_thenIndicesCountFromItsStart() {
        // Given Inf at value 10 of 32, and a buffer object positioned at byte 8 and limited to 20 bytes
        ByteBuffer b = ByteBuffer.allocateDirect(4 * 32).order(ByteOrder.nativeOrder());
        b.putFloat(4 * 10, Float.POSITIVE_INFINITY);
        b.position(8).limit(20);
        // Then value 10 is found, values 11 to 31 are finite, and the buffer's position and limit are untouched
        assertEquals(false, FiniteScan.allFinite(b, 0, 32, true));
        assertEquals(false, FiniteScan.allFinite(b, 10, 1, true));
        assertEquals(true, FiniteScan.allFinite(b, 11, 21, true));
        assertEquals(8, b.position());
        assertEquals(20, b.limit());
    }

    @Test
    void givenARangeBeyondTheBuffer_whenScanned_thenAnErrorNamesIt() {
        ByteBuffer b = ByteBuffer.allocateDirect(40);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FiniteScan.allFinite(b, 8, 3, true));
        assertEquals("values [8, 11) out of range: the buffer holds 10 values of 4 bytes", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FiniteScan.allFinite(b, -1, 2, false));
    }

    /**
     * The scalar scan, the selected scan and (with the module, on a JDK whose Vector API reads ByteBuffers)
     * the vector scan all answer {@code expected}.
     */
    private static void assertScans(ByteBuffer b, int from, int n, boolean float32, boolean expected) {
        boolean scalar = float32 ? FiniteScan.floats(b.asFloatBuffer(), from, n)
                : FiniteScan.doubles(b.asDoubleBuffer(), from, n);
        assertEquals(expected, scalar, "plain-Java scan");
        assertEquals(expected, FiniteScan.allFinite(b, from, n, float32), "selected scan");
        if (VectorApiCheck.missing(VectorApiCheck.KERNELS).isEmpty()) {
            assertEquals(expected, VectorLanes.scan(b, from, n, float32), "vector scan");
        }
    }

    private static void put(ByteBuffer b, int i, boolean float32, float v) {
        if (float32) {
            b.putFloat(4 * i, v);
        } else {
            b.putDouble(8 * i, v);
        }
    }

    /** Calls {@code VectorFinite}, loaded only after the module was found. */
    private static final class VectorLanes {
        static boolean scan(ByteBuffer b, int from, int n, boolean float32) {
            return float32 ? VectorFinite.floats(b, from, n) : VectorFinite.doubles(b, from, n);
        }
    }

    @Test
    void givenTheVectorKernels_whenSelected_thenTheScanUsesVectorLanesWhereTheyReadOffHeapRows() {
        // Given the vector kernels, reading off-heap rows in place or (JDK 19+, -Dkd4j.kernels.offHeap=false) not
        assumeTrue(Kernels.active().equals("vector"), "scalar kernels");
        // When the scan is chosen, Then it reads vector lanes exactly when the kernels read off-heap rows
        assertEquals(Kernels.offHeap(), FiniteScan.vectorized());
    }
}
