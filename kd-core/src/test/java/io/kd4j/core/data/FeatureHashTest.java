package io.kd4j.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The feature hashes that key the teacher caches: 64-bit FNV-1a over each example's float32 bytes
 * (little-endian), whatever the batch size (the hash runs eight examples side by side, then the rest one by one).
 */
class FeatureHashTest {

    @Test
    void givenKnownRows_whenHashed_thenTheFnv1aValuesComputedIndependently() {
        // FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3) over the bytes of struct.pack('<f', x),
        // computed with Python: [1.0, -2.0, 3.25] -> 0xc63b984ad93ba4c8; [0.0] -> 0x4d25767f9dce13f5
        long[] h = FeatureHash.perExample(Nd4j.create(new float[] {1f, -2f, 3.25f}, new long[] {1, 3}, 'c'));
        assertEquals(0xc63b984ad93ba4c8L, h[0]);
        long[] z = FeatureHash.perExample(Nd4j.create(new float[] {0f}, new long[] {1, 1}, 'c'));
        assertEquals(0x4d25767f9dce13f5L, z[0]);
    }

    @ParameterizedTest(name = "{0} examples")
    @ValueSource(ints = {0, 1, 3, 4, 5, 7, 8, 9, 11, 16, 19})
    void givenAnyBatchSize_whenHashed_thenEachExampleHashesAsOnItsOwn(int n) {
        Random rnd = new Random(n);
        float[] x = new float[n * 7];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        long[] all = FeatureHash.perExample(Nd4j.create(x, new long[] {n, 7}, 'c'));
        assertEquals(n, all.length);
        for (int i = 0; i < n; i++) {
            assertEquals(reference(x, i * 7, 7), all[i], "example " + i);
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

    /** Byte-by-byte FNV-1a of one example, written out independently of the code under test. */
    private static long reference(float[] x, int from, int width) {
        long h = 0xcbf29ce484222325L;
        for (int j = from; j < from + width; j++) {
            int bits = Float.floatToIntBits(x[j]);
            for (int b = 0; b < 4; b++) {
                h ^= (bits >> (8 * b)) & 0xff;
                h *= 0x100000001b3L;
            }
        }
        return h;
    }
}
