package io.kd4j.examples.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads gzipped IDX files (the MNIST / Fashion-MNIST format): images (magic 2051) and labels (2049).
 * Every malformed input (bad magic, bad gzip, truncated payload) is a clear {@link IOException}.
 */
public final class Idx {
    private Idx() {
    }

    /** Images as unsigned bytes, row-major {@code [count][rows*cols]}. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
    }

    public static Images readImages(InputStream gz, String name) throws IOException {
        try (DataInputStream in = open(gz, name)) {
            int magic = in.readInt();
            if (magic != 2051) {
                throw new IOException(name + ": not an IDX image file (magic " + magic + ", expected 2051)");
            }
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (count < 0 || rows <= 0 || cols <= 0 || (long) count * rows * cols > Integer.MAX_VALUE) {
                throw new IOException(name + ": corrupt IDX header (count " + count + ", " + rows + "x" + cols + ")");
            }
            byte[] pixels = new byte[count * rows * cols];
            readFully(in, pixels, name);
            return new Images(count, rows, cols, pixels);
        }
    }

    public static byte[] readLabels(InputStream gz, String name) throws IOException {
        try (DataInputStream in = open(gz, name)) {
            int magic = in.readInt();
            if (magic != 2049) {
                throw new IOException(name + ": not an IDX label file (magic " + magic + ", expected 2049)");
            }
            int count = in.readInt();
            if (count < 0) {
                throw new IOException(name + ": corrupt IDX header (count " + count + ")");
            }
            byte[] labels = new byte[count];
            readFully(in, labels, name);
            return labels;
        }
    }

    private static DataInputStream open(InputStream gz, String name) throws IOException {
        try {
            return new DataInputStream(new BufferedInputStream(new GZIPInputStream(gz, 1 << 16)));
        } catch (ZipException e) {
            throw new IOException(name + ": not a gzip file (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new IOException(name + ": empty or truncated file", e);
        }
    }

    private static void readFully(DataInputStream in, byte[] out, String name) throws IOException {
        try {
            in.readFully(out);
        } catch (EOFException e) {
            throw new IOException(name + ": truncated: expected " + out.length + " bytes of data", e);
        } catch (ZipException e) {
            throw new IOException(name + ": corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }
}
