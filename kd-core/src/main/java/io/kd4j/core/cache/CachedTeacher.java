package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A teacher whose outputs are read from a cache file written by {@link TeacherCache}. The file is
 * memory-mapped (heap use does not grow with the data set). Each example is found by its feature
 * hash: first at its position in the data order, else through the sorted hash index, so shuffled
 * data works; an example that is not in the cache is an error, never a wrong row.
 *
 * <p>On open the header, the file size and the CRC-32 of the payload are verified: a truncated,
 * corrupted or foreign file is refused with a message saying which check failed.
 */
public final class CachedTeacher implements Teacher {
    private final Path file;
    private final CacheHeader header;
    private final MappedByteBuffer map;
    private final long logitsOffset;
    private final long hashesOffset;
    private final long sortedOffset;
    private final long rowsOffset;

    private CachedTeacher(Path file, CacheHeader header, MappedByteBuffer map) {
        this.file = file;
        this.header = header;
        this.map = map;
        this.logitsOffset = CacheHeader.SIZE;
        this.hashesOffset = logitsOffset + header.examples() * header.teachers() * header.classes() * 4L;
        this.sortedOffset = hashesOffset + header.examples() * 8L;
        this.rowsOffset = sortedOffset + header.examples() * 8L;
    }

    static CachedTeacher open(Path file, Teacher expected) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new IOException("teacher cache " + file + " is " + size + " bytes; caches up to 2 GiB are supported");
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            CacheHeader header = CacheHeader.decode(map.duplicate(), file);
            long expectedSize = CacheHeader.SIZE + header.payloadBytes();
            if (size != expectedSize) {
                throw new IOException("teacher cache " + file + " is " + size + " bytes but its header describes "
                        + expectedSize + " (" + header.examples() + " examples x "
                        + (header.teachers() == 1 ? "" : header.teachers() + " teachers x ") + header.classes()
                        + " classes): the file is truncated or corrupted");
            }
            CRC32 crc = new CRC32();
            ByteBuffer payload = map.duplicate();
            payload.position(CacheHeader.SIZE);
            crc.update(payload);
            if (crc.getValue() != header.crc32()) {
                throw new IOException("teacher cache " + file + " fails its checksum (CRC-32 " + Long.toHexString(crc.getValue())
                        + ", header says " + Long.toHexString(header.crc32()) + "): the file is corrupted");
            }
            if (expected != null && !expected.fingerprint().equals(header.teacher())) {
                throw new IOException("teacher cache " + file + " was built by teacher " + header.teacher()
                        + ", not by the given teacher " + expected.fingerprint());
            }
            return new CachedTeacher(file, header, map);
        }
    }

    /** Number of cached examples. */
    public long examples() {
        return header.examples();
    }

    /** Number of classes per example (per teacher block). */
    public int classes() {
        return header.classes();
    }

    /** The weights of the stacked teacher blocks the cache holds ({@code [1.0]} for one teacher). */
    @Override
    public double[] blockWeights() {
        return header.teacherWeights().clone();
    }

    /** The fingerprint of the data the cache was built from. */
    public String dataFingerprint() {
        return header.data();
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        long[] hashes = FeatureHash.perExample(batch.features());
        int c = header.classes() * header.teachers();
        float[] out = new float[hashes.length * c];
        for (int i = 0; i < hashes.length; i++) {
            long row = find(batch.firstExample() + i, hashes[i]);
            long off = logitsOffset + row * c * 4L;
            map.duplicate().position((int) off).asFloatBuffer().get(out, i * c, c);
        }
        return Nd4j.create(out, new long[] {hashes.length, c}, DataType.FLOAT);
    }

    private long find(long position, long hash) {
        if (position < header.examples() && map.getLong((int) (hashesOffset + position * 8)) == hash) {
            return position;
        }
        long lo = 0;
        long hi = header.examples() - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long h = map.getLong((int) (sortedOffset + mid * 8));
            if (h < hash) {
                lo = mid + 1;
            } else if (h > hash) {
                hi = mid - 1;
            } else {
                return map.getInt((int) (rowsOffset + mid * 4));
            }
        }
        throw new IllegalStateException("example at position " + position + " (feature hash " + Long.toHexString(hash)
                + ") is not in teacher cache " + file + ": the cache was built for other data");
    }

    @Override
    public String describe() {
        return "cached teacher " + file.getFileName() + " (" + header.examples() + " examples x " + header.classes()
                + " classes" + (header.teachers() == 1 ? "" : " x " + header.teachers() + " stacked teachers")
                + ", built by teacher " + header.teacher() + ")";
    }

    /** The fingerprint of the teacher that built the cache. */
    @Override
    public String fingerprint() {
        return header.teacher();
    }
}
