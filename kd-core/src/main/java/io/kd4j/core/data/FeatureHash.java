package io.kd4j.core.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * 64-bit FNV-1a hashes of each example's features (as float32 bits), used to align cached teacher
 * outputs with the examples they belong to, whatever order the data arrives in.
 */
public final class FeatureHash {
    private static final long OFFSET = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;

    private FeatureHash() {
    }

    /** One hash per example (dimension 0) of {@code features}. */
    public static long[] perExample(INDArray features) {
        int n = (int) features.size(0);
        float[] data = features.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int width = n == 0 ? 0 : data.length / n;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long h = OFFSET;
            int base = i * width;
            for (int j = 0; j < width; j++) {
                int bits = Float.floatToIntBits(data[base + j]);
                for (int k = 0; k < 4; k++) {
                    h ^= (bits >>> (8 * k)) & 0xff;
                    h *= PRIME;
                }
            }
            out[i] = h;
        }
        return out;
    }

    /** Combines a running fingerprint with one more hash (order-sensitive). */
    public static long combine(long running, long next) {
        long h = running;
        for (int k = 0; k < 8; k++) {
            h ^= (next >>> (8 * k)) & 0xff;
            h *= PRIME;
        }
        return h;
    }

    /** The initial value of a running fingerprint. */
    public static long start() {
        return OFFSET;
    }
}
