package io.kd4j.core.cache;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.teacher.Teacher;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;

/**
 * Damages cache files for the integrity tests: a flipped byte, or a rewritten key=value header text that
 * stays well formed (length, and for the top-k header its CRC-32), as a file written by an earlier or
 * another writer would be; and the check that a top-k cache is refused saying why.
 */
final class CacheFiles {
    private CacheFiles() {
    }

    /** XORs the byte at {@code pos} with 0x5a. */
    static void flipByte(Path file, long pos) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x5a);
        }
    }

    /** Opening the top-k cache {@code file} with these expectations fails with a message containing {@code expected}. */
    static void assertTopKRefused(Path file, Teacher teacher, int k, String data, String expected) {
        IOException e = assertThrows(IOException.class, () -> TopKTeacherCache.open(file, teacher, k, data).close());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Dense cache header: text length at byte 12, text from byte 16. */
    static void rewriteDenseHeader(Path file, UnaryOperator<String> edit) throws IOException {
        rewrite(file, 16, false, edit);
    }

    /** Top-k cache header: text length at byte 12, its CRC-32 at byte 16, text from byte 24. */
    static void rewriteTopKHeader(Path file, UnaryOperator<String> edit) throws IOException {
        rewrite(file, 24, true, edit);
    }

    private static void rewrite(Path file, int textAt, boolean crc, UnaryOperator<String> edit) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] header = new byte[4096];
            f.readFully(header);
            ByteBuffer b = ByteBuffer.wrap(header);
            int len = b.getInt(12);
            String text = new String(header, textAt, len, StandardCharsets.UTF_8);
            byte[] edited = edit.apply(text).getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(4096);
            out.put(header, 0, 12).putInt(edited.length);
            if (crc) {
                CRC32 c = new CRC32();
                c.update(edited);
                out.putLong(c.getValue());
            }
            out.put(edited);
            f.seek(0);
            f.write(out.array());
        }
    }
}
