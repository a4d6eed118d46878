package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header of a teacher-output cache file: a fixed 4096-byte block at the start of the file holding
 * a magic number, the format version and {@code key=value} lines.
 * <pre>
 *   bytes 0..7   "KD4JTCH1"
 *   bytes 8..11  format version (int, big-endian): 1, or 2 for a stacked teacher
 *   bytes 12..15 length L of the text that follows (int)
 *   bytes 16..   L bytes of UTF-8 "key=value\n" lines; zero padding to 4096
 *   keys: dtype, examples, classes, topK, teacher (fingerprint), data (fingerprint), crc32 (payload),
 *         keys (the function of the feature hashes: xxh64; files without it were keyed by FNV-1a and are refused)
 *   version 2 adds: teachers (M &gt; 1 stacked teacher blocks), teacherWeights (M comma-separated weights)
 * </pre>
 * The payload after the header: {@code examples × teachers × classes} float32 logits (row-major, data
 * order; a row holds the M members' logits side by side), then {@code examples} longs of feature
 * hashes (data order), then the same hashes sorted, then {@code examples} ints: the row of each sorted
 * hash. A cache of one teacher is written as version 1, a stacked one as version 2.
 *
 * @param classes classes per teacher block
 * @param teacherWeights the block weights ({@code [1.0]} for one teacher)
 */
record CacheHeader(String dtype, long examples, int classes, int topK, String teacher, String data, long crc32,
                   double[] teacherWeights) {
    static final int SIZE = 4096;
    static final byte[] MAGIC = "KD4JTCH1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int STACKED_VERSION = 2;

    /** Number of stacked teacher blocks. */
    int teachers() {
        return teacherWeights.length;
    }

    ByteBuffer encode() {
        String text = "dtype=" + dtype + "\nexamples=" + examples + "\nclasses=" + classes + "\ntopK=" + topK
                + "\nteacher=" + teacher + "\ndata=" + data + "\ncrc32=" + crc32
                + "\nkeys=" + FeatureHash.KEYS + "\n";
        if (teachers() > 1) {
            StringBuilder w = new StringBuilder();
            for (double a : teacherWeights) {
                w.append(w.length() == 0 ? "" : ",").append(a);
            }
            text += "teachers=" + teachers() + "\nteacherWeights=" + w + "\n";
        }
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(MAGIC).putInt(teachers() > 1 ? STACKED_VERSION : VERSION).putInt(t.length).put(t);
        b.rewind();
        return b;
    }

    static CacheHeader decode(ByteBuffer b, Path file) throws IOException {
        if (b.remaining() < SIZE) {
            throw new IOException("teacher cache " + file + " is truncated: " + b.remaining()
                    + " bytes, shorter than its " + SIZE + "-byte header");
        }
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException("teacher cache " + file + " is not a kd4j teacher cache (bad magic number)");
        }
        int version = b.getInt();
        if (version != VERSION && version != STACKED_VERSION) {
            throw new IOException("teacher cache " + file + " has format version " + version + "; this kd4j reads "
                    + VERSION + " and " + STACKED_VERSION);
        }
        int len = b.getInt();
        if (len < 0 || len > SIZE - 16) {
            throw new IOException("teacher cache " + file + " has a corrupt header (text length " + len + ")");
        }
        byte[] t = new byte[len];
        b.get(t);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : new String(t, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        checkKeys(kv, "teacher cache " + file);
        try {
            double[] weights = {1.0};
            if (version == STACKED_VERSION) {
                String[] w = kv.get("teacherWeights").split(",");
                weights = new double[w.length];
                for (int m = 0; m < w.length; m++) {
                    weights[m] = Double.parseDouble(w[m]);
                }
                if (weights.length != Integer.parseInt(kv.get("teachers")) || weights.length < 2) {
                    throw new IllegalArgumentException("teachers and teacherWeights disagree");
                }
            }
            return new CacheHeader(kv.get("dtype"), Long.parseLong(kv.get("examples")),
                    Integer.parseInt(kv.get("classes")), Integer.parseInt(kv.get("topK")), kv.get("teacher"),
                    kv.get("data"), Long.parseLong(kv.get("crc32")), weights);
        } catch (RuntimeException e) {
            throw new IOException("teacher cache " + file + " has a corrupt header: " + kv, e);
        }
    }

    /**
     * Refuses a cache whose rows are keyed by another feature hash than {@link FeatureHash#perExample}'s:
     * its lookups would find nothing, or, worse, rows of other examples.
     */
    static void checkKeys(Map<String, String> kv, String what) throws IOException {
        String keys = kv.get("keys");
        if (keys == null) {
            throw new IOException(what + " keys its examples by FNV-1a feature hashes (written by an earlier kd4j); "
                    + "this kd4j keys them by " + FeatureHash.KEYS + ": rebuild the cache");
        }
        if (!keys.equals(FeatureHash.KEYS)) {
            throw new IOException(what + " keys its examples by '" + keys + "'; this kd4j reads " + FeatureHash.KEYS
                    + " keys: rebuild the cache");
        }
    }

    /** Payload bytes implied by the header. */
    long payloadBytes() {
        return examples * teachers() * classes * 4L + examples * 8L * 2 + examples * 4L;
    }
}
