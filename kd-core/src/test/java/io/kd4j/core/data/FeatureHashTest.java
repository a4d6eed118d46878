package io.kd4j.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The keys of the teacher caches: XXH64 (seed 0) of each example's float32 little-endian bytes,
 * whatever the batch size, layout or data type.
 */
class FeatureHashTest {

    /**
     * Expected values from the reference implementation, xxhsum 0.8.1 (Debian package {@code xxhash}):
     * {@code python3 -c "import struct; open('g.bin','wb').write(struct.pack('<%df' % n, *[(i % 13) * 0.25 - 1.5
     * for i in range(n)]))"}, then {@code xxhsum -H1 g.bin}. The widths cover every path of XXH64 on
     * whole floats: 4 bytes (no 8-byte word), 12 (one word and 4 bytes), 32 (one 32-byte stripe), 36, 148
     * (four stripes, two words, 4 bytes) and 3136 (a Fashion-MNIST image).
     */
    @ParameterizedTest(name = "{0} floats")
    @CsvSource({"1, 47108a7d3d02c972", "3, bd69600d30645367", "8, 3ed003349ca90474", "9, 6b32fa76bd21d742",
        "37, cdc566c84650a082", "784, f55b2f4918da9ea1"})
    void givenARowOfKnownFloats_whenHashed_thenTheXxh64OfItsBytesFromTheReferenceTool(int width, String hex) {
        // Given one example of `width` floats (i % 13) * 0.25 - 1.5, all exact in float32
        float[] x = new float[width];
        for (int i = 0; i < width; i++) {
            x[i] = (i % 13) * 0.25f - 1.5f;
        }
        // When hashed
        long h = FeatureHash.perExample(Nd4j.create(x, new long[] {1, width}, 'c'))[0];
        // Then it is what xxhsum computed from the same bytes
        assertEquals(Long.parseUnsignedLong(hex, 16), h);
    }

    @Test
    void givenOtherKnownRows_whenHashed_thenTheReferenceValues() {
        // xxhsum -H1 of struct.pack('<3f', 1.0, -2.0, 3.25) and of struct.pack('<f', 0.0)
        long[] h = FeatureHash.perExample(Nd4j.create(new float[] {1f, -2f, 3.25f}, new long[] {1, 3}, 'c'));
        assertEquals(0x684fad0d4c05df71L, h[0]);
        long[] z = FeatureHash.perExample(Nd4j.create(new float[] {0f}, new long[] {1, 1}, 'c'));
        assertEquals(0x3aefa6fd5cf2deb4L, z[0]);
    }

    @ParameterizedTest(name = "{0} examples")
    @ValueSource(ints = {0, 1, 3, 4, 5, 7, 8, 9, 11, 16, 19})
    void givenAnyBatchSize_whenHashed_thenEachExampleHashesAsOnItsOwn(int n) {
        // Given n random examples of 37 floats
        Random rnd = new Random(n);
        float[] x = new float[n * 37];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        // When the batch is hashed
        long[] all = FeatureHash.perExample(Nd4j.create(x, new long[] {n, 37}, 'c'));
        // Then each key is the key of that example alone, and no two random examples share one
        assertEquals(n, all.length);
        Set<Long> distinct = new HashSet<>();
        for (int i = 0; i < n; i++) {
            float[] one = java.util.Arrays.copyOfRange(x, i * 37, (i + 1) * 37);
            assertEquals(FeatureHash.perExample(Nd4j.create(one, new long[] {1, 37}, 'c'))[0], all[i], "example " + i);
            distinct.add(all[i]);
        }
        assertEquals(n, distinct.size());
    }

    @Test
    void givenExamplesThatDifferInOneBit_whenHashed_thenTheirKeysDiffer() {
        // Given a 784-float example and copies with one bit flipped, in every byte position of the first
        // 64 floats and of the last float (the stripe loop and the tail)
        Random rnd = new Random(3);
        float[] x = new float[784];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat();
        }
        long base = FeatureHash.perExample(Nd4j.create(x, new long[] {1, 784}, 'c'))[0];
        for (int j : new int[] {0, 1, 7, 8, 31, 63, 783}) {
            for (int bit = 0; bit < 32; bit++) {
                float[] y = x.clone();
                y[j] = Float.intBitsToFloat(Float.floatToRawIntBits(y[j]) ^ (1 << bit));
                // When hashed, Then the key changes
                assertNotEquals(base, FeatureHash.perExample(Nd4j.create(y, new long[] {1, 784}, 'c'))[0],
                        "float " + j + " bit " + bit);
            }
        }
    }

    @Test
    void givenAViewOrDoubles_whenHashed_thenTheSameHashesAsThePlainFloatRows() {
        INDArray big = Nd4j.rand(DataType.FLOAT, 9, 6);
        INDArray rows = big.get(NDArrayIndex.interval(2, 7), NDArrayIndex.all());
        long[] expected = FeatureHash.perExample(rows.dup('c'));
        assertArrayEquals(expected, FeatureHash.perExample(rows));
        assertArrayEquals(expected, FeatureHash.perExample(rows.dup('f')));
        assertArrayEquals(expected, FeatureHash.perExample(rows.castTo(DataType.DOUBLE)));
    }
}
