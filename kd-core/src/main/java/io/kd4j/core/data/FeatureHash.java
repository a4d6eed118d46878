package io.kd4j.core.data;

import java.nio.FloatBuffer;
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

    /**
     * One hash per example (dimension 0) of {@code features}. Four examples are hashed side by side (four
     * independent multiply chains instead of one), which gives the same hashes several times faster.
     */
    public static long[] perExample(INDArray features) {
        int n = (int) features.size(0);
        if (n == 0 || features.isEmpty()) {
            return new long[n];
        }
        INDArray f = features;
        if (f.dataType() != DataType.FLOAT || f.isView() || f.ordering() != 'c' || f.data().offset() != 0
                || f.data().length() != f.length()) {
            f = f.castTo(DataType.FLOAT).dup('c');
        }
        FloatBuffer data = f.data().asNioFloat();
        int width = n == 0 ? 0 : (int) (f.length() / n);
        long[] out = new long[n];
        float[] rows = new float[4 * width];
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            data.get(i * width, rows, 0, 4 * width);
            long h0 = OFFSET;
            long h1 = OFFSET;
            long h2 = OFFSET;
            long h3 = OFFSET;
            for (int j = 0; j < width; j++) {
                int b0 = Float.floatToIntBits(rows[j]);
                int b1 = Float.floatToIntBits(rows[width + j]);
                int b2 = Float.floatToIntBits(rows[2 * width + j]);
                int b3 = Float.floatToIntBits(rows[3 * width + j]);
                for (int k = 0; k < 32; k += 8) {
                    h0 = (h0 ^ ((b0 >>> k) & 0xff)) * PRIME;
                    h1 = (h1 ^ ((b1 >>> k) & 0xff)) * PRIME;
                    h2 = (h2 ^ ((b2 >>> k) & 0xff)) * PRIME;
                    h3 = (h3 ^ ((b3 >>> k) & 0xff)) * PRIME;
                }
            }
            out[i] = h0;
            out[i + 1] = h1;
            out[i + 2] = h2;
            out[i + 3] = h3;
        }
        for (; i < n; i++) {
            data.get(i * width, rows, 0, width);
            long h = OFFSET;
            for (int j = 0; j < width; j++) {
                int bits = Float.floatToIntBits(rows[j]);
                for (int k = 0; k < 32; k += 8) {
                    h = (h ^ ((bits >>> k) & 0xff)) * PRIME;
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
