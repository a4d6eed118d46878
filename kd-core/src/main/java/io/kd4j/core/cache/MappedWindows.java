package io.kd4j.core.cache;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A file region memory-mapped in windows, so files of any size are read without a 2 GiB limit and
 * without heap: window {@code i} maps {@code [i·W, i·W + W + overlap)}, so every read of at most
 * {@code overlap} bytes falls inside one window. Windows are mapped on first use.
 */
final class MappedWindows {
    private final FileChannel channel;
    private final FileChannel.MapMode mode;
    private final long size;
    private final long window;
    private final int overlap;
    private final MappedByteBuffer[] maps;

    MappedWindows(FileChannel channel, FileChannel.MapMode mode, long size, long window, int overlap) {
        if (window < 1 || overlap < 0 || window + overlap > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window must be in [1, 2 GiB - overlap], got " + window);
        }
        this.channel = channel;
        this.mode = mode;
        this.size = size;
        this.window = window;
        this.overlap = overlap;
        this.maps = new MappedByteBuffer[(int) Math.max(1, (size + window - 1) / window)];
    }

    long size() {
        return size;
    }

    private MappedByteBuffer map(int i) {
        MappedByteBuffer m = maps[i];
        if (m == null) {
            long start = i * window;
            long len = Math.min(size - start, window + overlap);
            try {
                m = channel.map(mode, start, len);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot map bytes " + start + ".." + (start + len), e);
            }
            m.order(ByteOrder.BIG_ENDIAN);
            maps[i] = m;
        }
        return m;
    }

    private MappedByteBuffer at(long pos, int len) {
        if (pos < 0 || pos + len > size || len > overlap) {
            throw new IndexOutOfBoundsException("access of " + len + " bytes at " + pos + " outside 0.." + size
                    + " or wider than the window overlap " + overlap);
        }
        return map((int) (pos / window));
    }

    private int off(long pos) {
        return (int) (pos % window);
    }

    long getLong(long pos) {
        return at(pos, 8).getLong(off(pos));
    }

    int getInt(long pos) {
        return at(pos, 4).getInt(off(pos));
    }

    byte getByte(long pos) {
        return at(pos, 1).get(off(pos));
    }

    short getShort(long pos) {
        return at(pos, 2).getShort(off(pos));
    }

    float getFloat(long pos) {
        return at(pos, 4).getFloat(off(pos));
    }

    void putLong(long pos, long v) {
        at(pos, 8).putLong(off(pos), v);
    }

    void putInt(long pos, int v) {
        at(pos, 4).putInt(off(pos), v);
    }

    /** Copies {@code len <= overlap} bytes at {@code pos} into {@code dst}. */
    void get(long pos, byte[] dst, int len) {
        at(pos, len).get(off(pos), dst, 0, len);
    }

    /** Flushes written windows to the file. */
    void force() {
        for (MappedByteBuffer m : maps) {
            if (m != null) {
                m.force();
            }
        }
    }
}
