package io.kd4j.core.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header of a teacher-output cache file (format version 1): a fixed 4096-byte block at the start
 * of the file holding a magic number, the format version and {@code key=value} lines.
 * <pre>
 *   bytes 0..7   "KD4JTCH1"
 *   bytes 8..11  format version (int, big-endian)
 *   bytes 12..15 length L of the text that follows (int)
 *   bytes 16..   L bytes of UTF-8 "key=value\n" lines; zero padding to 4096
 *   keys: dtype, examples, classes, topK, teacher (fingerprint), data (fingerprint), crc32 (payload)
 * </pre>
 * The payload after the header: {@code examples × classes} float32 logits (row-major, data order),
 * then {@code examples} longs of feature hashes (data order), then the same hashes sorted, then
 * {@code examples} ints: the row of each sorted hash.
 */
record CacheHeader(String dtype, long examples, int classes, int topK, String teacher, String data, long crc32) {
    static final int SIZE = 4096;
    static final byte[] MAGIC = "KD4JTCH1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;

    ByteBuffer encode() {
        String text = "dtype=" + dtype + "\nexamples=" + examples + "\nclasses=" + classes + "\ntopK=" + topK
                + "\nteacher=" + teacher + "\ndata=" + data + "\ncrc32=" + crc32 + "\n";
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(MAGIC).putInt(VERSION).putInt(t.length).put(t);
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
        if (version != VERSION) {
            throw new IOException("teacher cache " + file + " has format version " + version + "; this kd4j reads "
                    + VERSION);
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
        try {
            return new CacheHeader(kv.get("dtype"), Long.parseLong(kv.get("examples")),
                    Integer.parseInt(kv.get("classes")), Integer.parseInt(kv.get("topK")), kv.get("teacher"),
                    kv.get("data"), Long.parseLong(kv.get("crc32")));
        } catch (RuntimeException e) {
            throw new IOException("teacher cache " + file + " has a corrupt header: " + kv, e);
        }
    }

    /** Payload bytes implied by the header. */
    long payloadBytes() {
        return examples * classes * 4L + examples * 8L * 2 + examples * 4L;
    }
}
