package io.kd4j.core.data;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The key of each example in the teacher caches: XXH64 (seed 0) of the example's features as float32
 * little-endian bytes, so it can be checked with any XXH64 implementation (e.g. {@code xxhsum -H1} on
 * those bytes). Float64 features are hashed after a cast to float32; the bytes are hashed as they lie in
 * ND4J's buffer (a NaN by its own bits), which is little-endian on every platform ND4J ships a backend
 * for (x86-64, arm64, ppc64le).
 *
 * <p>XXH64 reads 8 bytes (two floats) per step, with two multiplications, into four independent
 * accumulators. The FNV-1a of the bytes used before needed four serial multiplications per float;
 * with XXH64, attaching cached outputs to an epoch of 12,000 Fashion-MNIST images went from about 50 ms
 * to 15-31 ms (docs/performance-log.md, "Where the cached epoch's time went"). Cache files record their
 * key function ({@code keys=xxh64}); files written with FNV-1a keys are refused and must be rebuilt.
 *
 * <p>{@link #combine} chains hashes into a data fingerprint (FNV-1a over the eight bytes of each hash).
 */
public final class FeatureHash {
    /** The header value that names this key function in cache files. */
    public static final String KEYS = "xxh64";
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private FeatureHash() {
    }

    /** One key per example (dimension 0) of {@code features}. */
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
        // XXH64 reads its 8- and 4-byte words little-endian from the byte stream: a little-endian view does
        // that on any platform
        ByteBuffer data = f.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
        int width = (int) (f.length() / n);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = xxh64(data, 4 * i * width, 4 * width);
        }
        // the NIO view does not keep f's off-heap memory alive (f may be a temporary copy made here)
        Reference.reachabilityFence(f);
        return out;
    }

    /**
     * XXH64, seed 0, of {@code length} bytes of {@code b} from byte {@code from} ({@code b} in
     * little-endian order; {@code length} a multiple of 4, as float32 rows are).
     */
    static long xxh64(ByteBuffer b, int from, int length) {
        int j = from;
        int end = from + length;
        long h;
        if (length >= 32) {
            long v1 = P1 + P2;
            long v2 = P2;
            long v3 = 0;
            long v4 = -P1;
            for (int stripeEnd = end - 31; j < stripeEnd; j += 32) {
                v1 = round(v1, b.getLong(j));
                v2 = round(v2, b.getLong(j + 8));
                v3 = round(v3, b.getLong(j + 16));
                v4 = round(v4, b.getLong(j + 24));
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = P5;
        }
        h += length;
        for (; j + 8 <= end; j += 8) {
            h ^= round(0, b.getLong(j));
            h = Long.rotateLeft(h, 27) * P1 + P4;
        }
        if (j + 4 <= end) {
            h ^= (b.getInt(j) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long round(long acc, long input) {
        return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    private static long merge(long acc, long v) {
        return (acc ^ round(0, v)) * P1 + P4;
    }

    /** Combines a running fingerprint with one more hash (order-sensitive). */
    public static long combine(long running, long next) {
        long h = running;
        for (int k = 0; k < 8; k++) {
            h ^= (next >>> (8 * k)) & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** The initial value of a running fingerprint. */
    public static long start() {
        return FNV_OFFSET;
    }
}
