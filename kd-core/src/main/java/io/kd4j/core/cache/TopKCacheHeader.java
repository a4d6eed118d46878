package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The 4096-byte header of a top-k teacher cache (format version 1 for {@code [batch, classes]}
 * teachers, 2 for sequence teachers {@code [batch, classes, time]}):
 * <pre>
 *   bytes 0..7    "KD4JTOPK"
 *   bytes 8..11   format version (int, big-endian): 1, or 2 for sequences
 *   bytes 12..15  length L of the text
 *   bytes 16..23  CRC-32 of the text (long)
 *   bytes 24..    L bytes of UTF-8 "key=value\n" lines; zero padding to 4096
 *   keys: dtype (float32|float16), index (uint16|int32), examples, classes, k, temperature,
 *         teacher (fingerprint), data (fingerprint), crc32 (of the payload), keys (xxh64, the feature hash
 *         function; files without it were keyed by FNV-1a and are refused)
 *   version 2 adds: time (T, the sequence length), tokens (records stored: the valid steps)
 * </pre>
 * Payload, version 1: {@code examples} records of {@code k} class indices, {@code k} log-probabilities
 * and the log of the remaining mass (float32); then {@code examples} feature hashes (data order); then
 * {@code examples} index entries (hash, row) sorted by hash.
 *
 * <p>Payload, version 2 (per-token top-k of sequences; masked steps are not stored): {@code tokens}
 * records (example by example, steps in order); {@code examples} feature hashes; {@code examples}
 * sorted index entries; {@code examples} longs, the first record of each example; then
 * {@code examples × ceil(T / 8)} bytes, each example's stored steps as a bit set (bit {@code t % 8}
 * of byte {@code t / 8}).
 *
 * @param time 0 for {@code [batch, classes]} caches, else the sequence length T
 * @param tokens the records stored (examples for version 1; the valid steps for version 2)
 */
record TopKCacheHeader(String dtype, String index, long examples, int classes, int k, double temperature,
                       String teacher, String data, long crc32, int time, long tokens) {
    static final int SIZE = 4096;
    static final byte[] MAGIC = "KD4JTOPK".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int SEQUENCE_VERSION = 2;
    static final int INDEX_ENTRY = 12;

    /** This header with the payload checksum set. */
    TopKCacheHeader withCrc(long crc) {
        return new TopKCacheHeader(dtype, index, examples, classes, k, temperature, teacher, data, crc, time, tokens);
    }

    /** Bytes of one example's step bit set (sequence caches). */
    int maskBytes() {
        return (time + 7) / 8;
    }

    /** Offset of the per-example first-record table (sequence caches). */
    long startsOffset() {
        return indexOffset() + examples * (long) INDEX_ENTRY;
    }

    /** Offset of the per-example step bit sets (sequence caches). */
    long masksOffset() {
        return startsOffset() + examples * 8L;
    }

    int indexBytes() {
        return index.equals("uint16") ? 2 : 4;
    }

    int valueBytes() {
        return dtype.equals("float16") ? 2 : 4;
    }

    /** Bytes of one example's record. */
    int recordBytes() {
        return k * (indexBytes() + valueBytes()) + 4;
    }

    long hashesOffset() {
        return SIZE + tokens * recordBytes();
    }

    long indexOffset() {
        return hashesOffset() + examples * 8L;
    }

    long fileBytes() {
        return time == 0 ? indexOffset() + examples * (long) INDEX_ENTRY : masksOffset() + examples * (long) maskBytes();
    }

    /** Bytes per example on disk, all sections included. */
    int bytesPerExample() {
        return recordBytes() + 8 + INDEX_ENTRY;
    }

    ByteBuffer encode() {
        String text = "dtype=" + dtype + "\nindex=" + index + "\nexamples=" + examples + "\nclasses=" + classes
                + "\nk=" + k + "\ntemperature=" + temperature + "\nteacher=" + teacher + "\ndata=" + data
                + "\ncrc32=" + crc32 + "\nkeys=" + FeatureHash.KEYS + "\n"
                + (time == 0 ? "" : "time=" + time + "\ntokens=" + tokens + "\n");
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(t);
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(MAGIC).putInt(time == 0 ? VERSION : SEQUENCE_VERSION).putInt(t.length).putLong(crc.getValue()).put(t);
        b.rewind();
        return b;
    }

    static TopKCacheHeader decode(ByteBuffer b, Path file) throws IOException {
        if (b.remaining() < SIZE) {
            throw new IOException("top-k teacher cache " + file + " is truncated: " + b.remaining()
                    + " bytes, shorter than its " + SIZE + "-byte header");
        }
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a kd4j top-k teacher cache (bad magic number)");
        }
        int version = b.getInt();
        if (version != VERSION && version != SEQUENCE_VERSION) {
            throw new IOException("top-k teacher cache " + file + " has format version " + version
                    + "; this kd4j reads versions " + VERSION + " and " + SEQUENCE_VERSION);
        }
        int len = b.getInt();
        long textCrc = b.getLong();
        if (len < 0 || len > SIZE - 24) {
            throw new IOException("top-k teacher cache " + file + " has a corrupt header (text length " + len + ")");
        }
        byte[] t = new byte[len];
        b.get(t);
        CRC32 crc = new CRC32();
        crc.update(t);
        if (crc.getValue() != textCrc) {
            throw new IOException("top-k teacher cache " + file + " has a corrupt header (header checksum mismatch)");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : new String(t, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        CacheHeader.checkKeys(kv, "top-k teacher cache " + file);
        try {
            long examples = Long.parseLong(kv.get("examples"));
            int time = version == SEQUENCE_VERSION ? Integer.parseInt(kv.get("time")) : 0;
            long tokens = version == SEQUENCE_VERSION ? Long.parseLong(kv.get("tokens")) : examples;
            if (version == SEQUENCE_VERSION && (time < 1 || tokens < 0 || tokens > examples * time)) {
                throw new IllegalArgumentException("time=" + time + ", tokens=" + tokens);
            }
            return new TopKCacheHeader(kv.get("dtype"), kv.get("index"), examples,
                    Integer.parseInt(kv.get("classes")), Integer.parseInt(kv.get("k")),
                    Double.parseDouble(kv.get("temperature")), kv.get("teacher"), kv.get("data"),
                    Long.parseLong(kv.get("crc32")), time, tokens);
        } catch (RuntimeException e) {
            throw new IOException("top-k teacher cache " + file + " has a corrupt header: " + kv, e);
        }
    }
}
