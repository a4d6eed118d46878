package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.api.TopKTeacher;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A top-k teacher cache opened for reading (written by {@link TopKTeacherCache}). The file is
 * memory-mapped in windows, so neither its size nor the number of examples grows the heap; each batch
 * is served as a {@link TopKTeacher} (class indices and log-probabilities, {@code [batch, k]}), found by
 * feature hash (the example's position first, else the sorted index), so shuffled data works and an
 * example that is not in the cache is an error, never a wrong row.
 *
 * <p>On open: the header's magic, format version and checksum; the file size against the header
 * (truncation); the CRC-32 of the payload (corruption); and, when given, the teacher's fingerprint,
 * k and the data's fingerprint (a cache of another teacher, k or data set). Each failure is an
 * {@link IOException} saying which check failed and the two values.
 */
public final class CachedTopKTeacher implements AutoCloseable {
    private final Path file;
    private final TopKCacheHeader header;
    private final FileChannel channel;
    private final MappedWindows map;

    private CachedTopKTeacher(Path file, TopKCacheHeader header, FileChannel channel, MappedWindows map) {
        this.file = file;
        this.header = header;
        this.channel = channel;
        this.map = map;
    }

    static CachedTopKTeacher open(Path file, Teacher expectedTeacher, int expectedK, String expectedData, long window)
            throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            ByteBuffer hb = ByteBuffer.allocate((int) Math.min(size, TopKCacheHeader.SIZE));
            ch.read(hb, 0);
            hb.flip();
            TopKCacheHeader h = TopKCacheHeader.decode(hb, file);
            if (size != h.fileBytes()) {
                throw new IOException("top-k teacher cache " + file + " is " + size + " bytes but its header describes "
                        + h.fileBytes() + " (" + h.examples() + " examples x " + h.bytesPerExample()
                        + " bytes): the file is truncated or corrupted");
            }
            long crc = TopKTeacherCache.crc(ch, TopKCacheHeader.SIZE);
            if (crc != h.crc32()) {
                throw new IOException("top-k teacher cache " + file + " fails its checksum (CRC-32 "
                        + Long.toHexString(crc) + ", header says " + Long.toHexString(h.crc32())
                        + "): the file is corrupted");
            }
            if (expectedTeacher != null && !expectedTeacher.fingerprint().equals(h.teacher())) {
                throw new IOException("top-k teacher cache " + file + " was built by teacher " + h.teacher()
                        + ", not by the given teacher " + expectedTeacher.fingerprint());
            }
            if (expectedK > 0 && expectedK != h.k()) {
                throw new IOException("top-k teacher cache " + file + " holds k=" + h.k() + " classes per example, "
                        + "expected k=" + expectedK);
            }
            if (expectedData != null && !expectedData.equals(h.data())) {
                throw new IOException("top-k teacher cache " + file + " was built from data " + h.data()
                        + ", not from the given data " + expectedData);
            }
            return new CachedTopKTeacher(file, h, ch, new MappedWindows(ch, FileChannel.MapMode.READ_ONLY, size,
                    window, 64));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The sparse teacher of a batch: indices and log-probabilities {@code [batch, k]}, float32. */
    public TopKTeacher topK(TeacherBatch batch) {
        long[] hashes = FeatureHash.perExample(batch.features());
        int k = header.k();
        int ib = header.indexBytes();
        boolean half = header.valueBytes() == 2;
        float[] idx = new float[hashes.length * k];
        float[] lp = new float[hashes.length * k];
        for (int i = 0; i < hashes.length; i++) {
            long at = TopKCacheHeader.SIZE + find(batch.firstExample() + i, hashes[i]) * header.recordBytes();
            for (int j = 0; j < k; j++) {
                idx[i * k + j] = ib == 2 ? map.getShort(at + 2L * j) & 0xffff : map.getInt(at + 4L * j);
            }
            long v = at + (long) ib * k;
            for (int j = 0; j < k; j++) {
                lp[i * k + j] = half ? Half.toFloat(map.getShort(v + 2L * j)) : map.getFloat(v + 4L * j);
            }
        }
        long[] shape = {hashes.length, k};
        return new TopKTeacher(Nd4j.create(idx, shape, 'c'), Nd4j.create(lp, shape, 'c'));
    }

    /** The stored log of the teacher's probability mass outside the top-k of example {@code row} (data order). */
    public float logRestMass(long row) {
        if (row < 0 || row >= header.examples()) {
            throw new IndexOutOfBoundsException("row must be in [0, " + header.examples() + "), got " + row);
        }
        return map.getFloat(TopKCacheHeader.SIZE + (row + 1) * header.recordBytes() - 4);
    }

    private long find(long position, long hash) {
        if (position < header.examples() && map.getLong(header.hashesOffset() + position * 8) == hash) {
            return position;
        }
        long lo = 0;
        long hi = header.examples() - 1;
        long base = header.indexOffset();
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long h = map.getLong(base + mid * TopKCacheHeader.INDEX_ENTRY);
            if (h < hash) {
                lo = mid + 1;
            } else if (h > hash) {
                hi = mid - 1;
            } else {
                return map.getInt(base + mid * TopKCacheHeader.INDEX_ENTRY + 8);
            }
        }
        throw new IllegalStateException("example at position " + position + " (feature hash " + Long.toHexString(hash)
                + ") is not in top-k teacher cache " + file + ": the cache was built for other data");
    }

    /** k, the classes kept per example. */
    public int k() {
        return header.k();
    }

    /** Classes of the teacher. */
    public int classes() {
        return header.classes();
    }

    /** Number of cached examples. */
    public long examples() {
        return header.examples();
    }

    /** Temperature of the stored distribution (give it to the sparse losses as {@code teacherTemperature}). */
    public double temperature() {
        return header.temperature();
    }

    /** Whether the values are stored as float16. */
    public boolean float16() {
        return header.valueBytes() == 2;
    }

    /** Bytes per example on disk (record, hash and index entry). */
    public int bytesPerExample() {
        return header.bytesPerExample();
    }

    /** The fingerprint of the teacher that built the cache. */
    public String teacherFingerprint() {
        return header.teacher();
    }

    /** The fingerprint of the data the cache was built from. */
    public String dataFingerprint() {
        return header.data();
    }

    /** For reports: file, size and provenance. */
    public String describe() {
        return "top-k teacher cache " + file.getFileName() + " (" + header.examples() + " examples, k=" + header.k()
                + " of " + header.classes() + " classes, " + header.dtype() + ", built by teacher " + header.teacher()
                + ")";
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
