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
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A top-k teacher cache opened for reading (written by {@link TopKTeacherCache}). The file is
 * memory-mapped in windows, so neither its size nor the number of examples grows the heap; each batch
 * is served as a {@link TopKTeacher} (class indices and log-probabilities, {@code [batch, k]}), found by
 * feature hash (the example's position first, else the sorted index), so shuffled data works and an
 * example that is not in the cache is an error, never a wrong row.
 *
 * <p>A sequence cache (teacher logits {@code [batch, classes, time]}, format version 2) holds one record
 * per valid step and serves {@code [batch, k, time]} blocks: a step that is valid in the batch but was
 * not stored is an error; steps the batch masks are filled with a placeholder ({@code k} distinct
 * classes {@code 0..k-1} of log-probability {@code -log k}) that the masked loss never reads.
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

    /**
     * The sparse teacher of a batch: indices and log-probabilities {@code [batch, k]}, float32; for a
     * sequence cache {@code [batch, k, time]} for the steps of the batch's features mask (all when none).
     */
    public TopKTeacher topK(TeacherBatch batch) {
        return topK(batch, batch.featuresMask());
    }

    /**
     * As {@link #topK(TeacherBatch)}; for a sequence cache, {@code stepMask} ({@code [batch, time]}, or
     * {@code null} for every step) names the steps the batch trains on, each of which the cache must hold.
     */
    public TopKTeacher topK(TeacherBatch batch, INDArray stepMask) {
        if (header.time() > 0) {
            return sequenceTopK(batch, stepMask);
        }
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

    private TopKTeacher sequenceTopK(TeacherBatch batch, INDArray stepMask) {
        long[] hashes = FeatureHash.perExample(batch.features());
        int n = hashes.length;
        int time = header.time();
        if (batch.features().rank() == 3 && batch.features().size(2) != time) {
            throw new IllegalArgumentException("top-k teacher cache " + file + " holds sequences of length " + time
                    + ", got features of shape " + Arrays.toString(batch.features().shape()));
        }
        if (stepMask != null && (stepMask.rank() != 2 || stepMask.size(0) != n || stepMask.size(1) != time)) {
            throw new IllegalArgumentException("step mask must be [" + n + ", " + time + "], got "
                    + Arrays.toString(stepMask.shape()));
        }
        double[] m = stepMask == null ? null : stepMask.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int k = header.k();
        int ib = header.indexBytes();
        boolean half = header.valueBytes() == 2;
        float[] idx = new float[n * k * time];
        float[] lp = new float[n * k * time];
        float filler = (float) -Math.log(k);
        for (int i = 0; i < n; i++) {
            long row = find(batch.firstExample() + i, hashes[i]);
            long record = map.getLong(header.startsOffset() + row * 8);
            long bits = header.masksOffset() + row * header.maskBytes();
            for (int t = 0; t < time; t++) {
                boolean stored = (map.getByte(bits + t / 8) & (1 << (t % 8))) != 0;
                boolean wanted = m == null || m[i * time + t] != 0;
                if (wanted && !stored) {
                    throw new IllegalStateException("example at position " + (batch.firstExample() + i) + ", step " + t
                            + " is valid in this batch but was masked when top-k teacher cache " + file
                            + " was written");
                }
                for (int j = 0; j < k; j++) {
                    int at = (i * k + j) * time + t;
                    idx[at] = j;
                    lp[at] = filler;
                }
                if (stored && wanted) {
                    long at = TopKCacheHeader.SIZE + record * header.recordBytes();
                    long v = at + (long) ib * k;
                    for (int j = 0; j < k; j++) {
                        int o = (i * k + j) * time + t;
                        idx[o] = ib == 2 ? map.getShort(at + 2L * j) & 0xffff : map.getInt(at + 4L * j);
                        lp[o] = half ? Half.toFloat(map.getShort(v + 2L * j)) : map.getFloat(v + 4L * j);
                    }
                }
                record += stored ? 1 : 0;
            }
        }
        long[] shape = {n, k, time};
        return new TopKTeacher(Nd4j.create(idx, shape, 'c'), Nd4j.create(lp, shape, 'c'));
    }

    /**
     * The stored log of the teacher's probability mass outside the top-k of record {@code record}: the
     * example of that row (data order), or for a sequence cache the {@code record}-th stored step.
     */
    public float logRestMass(long record) {
        if (record < 0 || record >= header.tokens()) {
            throw new IndexOutOfBoundsException("record must be in [0, " + header.tokens() + "), got " + record);
        }
        return map.getFloat(TopKCacheHeader.SIZE + (record + 1) * header.recordBytes() - 4);
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

    /** Bytes per example on disk (record, hash and index entry) of a {@code [batch, classes]} cache. */
    public int bytesPerExample() {
        return header.bytesPerExample();
    }

    /** The sequence length of a sequence cache, 0 for a {@code [batch, classes]} cache. */
    public int time() {
        return header.time();
    }

    /** Records stored: examples, or for a sequence cache the valid steps (masked steps are not stored). */
    public long tokens() {
        return header.tokens();
    }

    /** Bytes on disk after the header per stored record (all sections included: hashes, index, steps). */
    public double bytesPerToken() {
        return (header.fileBytes() - TopKCacheHeader.SIZE) / (double) Math.max(1, header.tokens());
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
        return "top-k teacher cache " + file.getFileName() + " (" + header.examples() + " examples"
                + (header.time() == 0 ? "" : " x " + header.time() + " steps, " + header.tokens() + " stored")
                + ", k=" + header.k()
                + " of " + header.classes() + " classes, " + header.dtype() + ", built by teacher " + header.teacher()
                + ")";
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
