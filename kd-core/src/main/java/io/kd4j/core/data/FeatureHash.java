package io.kd4j.core.data;

import java.lang.ref.Reference;
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
    /** Examples hashed side by side. */
    private static final int LANES = 8;

    private FeatureHash() {
    }

    /**
     * One hash per example (dimension 0) of {@code features}. Eight examples are hashed side by side
     * (eight independent multiply chains instead of one, which keeps the multiplier busy), then the
     * rest one by one; the hashes are the same as hashing each example on its own.
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
        int width = (int) (f.length() / n);
        long[] out = new long[n];
        float[] rows = new float[LANES * width];
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            data.get(i * width, rows, 0, LANES * width);
            eight(rows, width, out, i);
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
        // the NIO view does not keep f's off-heap memory alive (f may be a temporary copy made here)
        Reference.reachabilityFence(f);
        return out;
    }

    /** FNV-1a of the eight rows {@code rows[e * width, (e + 1) * width)} into {@code out[at + e]}. */
    private static void eight(float[] rows, int width, long[] out, int at) {
        long h0 = OFFSET;
        long h1 = OFFSET;
        long h2 = OFFSET;
        long h3 = OFFSET;
        long h4 = OFFSET;
        long h5 = OFFSET;
        long h6 = OFFSET;
        long h7 = OFFSET;
        for (int j = 0; j < width; j++) {
            int b0 = Float.floatToIntBits(rows[j]);
            int b1 = Float.floatToIntBits(rows[width + j]);
            int b2 = Float.floatToIntBits(rows[2 * width + j]);
            int b3 = Float.floatToIntBits(rows[3 * width + j]);
            int b4 = Float.floatToIntBits(rows[4 * width + j]);
            int b5 = Float.floatToIntBits(rows[5 * width + j]);
            int b6 = Float.floatToIntBits(rows[6 * width + j]);
            int b7 = Float.floatToIntBits(rows[7 * width + j]);
            // the four bytes of each float, low byte first (little-endian, as the cache files were written)
            h0 = (h0 ^ (b0 & 0xff)) * PRIME;
            h1 = (h1 ^ (b1 & 0xff)) * PRIME;
            h2 = (h2 ^ (b2 & 0xff)) * PRIME;
            h3 = (h3 ^ (b3 & 0xff)) * PRIME;
            h4 = (h4 ^ (b4 & 0xff)) * PRIME;
            h5 = (h5 ^ (b5 & 0xff)) * PRIME;
            h6 = (h6 ^ (b6 & 0xff)) * PRIME;
            h7 = (h7 ^ (b7 & 0xff)) * PRIME;
            h0 = (h0 ^ ((b0 >>> 8) & 0xff)) * PRIME;
            h1 = (h1 ^ ((b1 >>> 8) & 0xff)) * PRIME;
            h2 = (h2 ^ ((b2 >>> 8) & 0xff)) * PRIME;
            h3 = (h3 ^ ((b3 >>> 8) & 0xff)) * PRIME;
            h4 = (h4 ^ ((b4 >>> 8) & 0xff)) * PRIME;
            h5 = (h5 ^ ((b5 >>> 8) & 0xff)) * PRIME;
            h6 = (h6 ^ ((b6 >>> 8) & 0xff)) * PRIME;
            h7 = (h7 ^ ((b7 >>> 8) & 0xff)) * PRIME;
            h0 = (h0 ^ ((b0 >>> 16) & 0xff)) * PRIME;
            h1 = (h1 ^ ((b1 >>> 16) & 0xff)) * PRIME;
            h2 = (h2 ^ ((b2 >>> 16) & 0xff)) * PRIME;
            h3 = (h3 ^ ((b3 >>> 16) & 0xff)) * PRIME;
            h4 = (h4 ^ ((b4 >>> 16) & 0xff)) * PRIME;
            h5 = (h5 ^ ((b5 >>> 16) & 0xff)) * PRIME;
            h6 = (h6 ^ ((b6 >>> 16) & 0xff)) * PRIME;
            h7 = (h7 ^ ((b7 >>> 16) & 0xff)) * PRIME;
            h0 = (h0 ^ (b0 >>> 24)) * PRIME;
            h1 = (h1 ^ (b1 >>> 24)) * PRIME;
            h2 = (h2 ^ (b2 >>> 24)) * PRIME;
            h3 = (h3 ^ (b3 >>> 24)) * PRIME;
            h4 = (h4 ^ (b4 >>> 24)) * PRIME;
            h5 = (h5 ^ (b5 >>> 24)) * PRIME;
            h6 = (h6 ^ (b6 >>> 24)) * PRIME;
            h7 = (h7 ^ (b7 >>> 24)) * PRIME;
        }
        out[at] = h0;
        out[at + 1] = h1;
        out[at + 2] = h2;
        out[at + 3] = h3;
        out[at + 4] = h4;
        out[at + 5] = h5;
        out[at + 6] = h6;
        out[at + 7] = h7;
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
