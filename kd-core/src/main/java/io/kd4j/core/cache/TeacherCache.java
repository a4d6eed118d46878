package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a teacher-output cache: the teacher runs once over a data set, and its logits are stored
 * (float32, with per-example feature hashes and a CRC-32 of the payload) for offline distillation
 * across epochs, runs and students. A teacher of several stacked blocks (a {@code MultiTeacher} that
 * averages per-teacher losses) is cached with all its members' logits and its block weights, so the
 * cache distils exactly as the online ensemble does. The file is written to a temporary name, forced to disk and
 * atomically renamed, so a crash never leaves a half-written cache under the final name.
 * Read it back with {@link #open(Path)}.
 */
public final class TeacherCache {
    private static final Logger LOG = LoggerFactory.getLogger(TeacherCache.class);

    private TeacherCache() {
    }

    /**
     * Runs the teacher over {@code data} (from its start) and writes the cache to {@code file}.
     *
     * @return the header fields as a short summary
     */
    public static String write(Teacher teacher, DataSetIterator data, Path file) throws IOException {
        Objects.requireNonNull(teacher, "teacher must not be null");
        Objects.requireNonNull(data, "data must not be null");
        Objects.requireNonNull(file, "file must not be null");
        if (data.resetSupported()) {
            data.reset();
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path logitsTmp = Files.createTempFile(dir, file.getFileName().toString(), ".logits.tmp");
        long[] hashes = new long[1024];
        long examples = 0;
        int classes = -1;
        double[] blockWeights = teacher.blockWeights();
        long dataFingerprint = FeatureHash.start();
        try {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(logitsTmp), 1 << 20))) {
                while (data.hasNext()) {
                    DataSet ds = data.next();
                    INDArray logits = teacher.logits(new TeacherBatch(ds.getFeatures(), ds.getFeaturesMaskArray(), examples));
                    if (logits.rank() != 2) {
                        throw new IllegalArgumentException("teacher caches hold [batch, classes] logits, got shape "
                                + Arrays.toString(logits.shape()));
                    }
                    if (classes < 0) {
                        classes = (int) logits.size(1);
                    } else if (logits.size(1) != classes) {
                        throw new IllegalArgumentException("teacher produced " + logits.size(1) + " classes after "
                                + classes + " in an earlier batch");
                    }
                    float[] values = logits.castTo(DataType.FLOAT).dup('c').data().asFloat();
                    for (float v : values) {
                        if (!Float.isFinite(v)) {
                            throw new IllegalStateException("teacher produced a non-finite logit (" + v + ") at example "
                                    + examples + "; refusing to cache it");
                        }
                        out.writeFloat(v);
                    }
                    long[] h = FeatureHash.perExample(ds.getFeatures());
                    if (examples + h.length > hashes.length) {
                        hashes = Arrays.copyOf(hashes, (int) Math.max(hashes.length * 2L, examples + h.length));
                    }
                    for (long x : h) {
                        hashes[(int) examples++] = x;
                        dataFingerprint = FeatureHash.combine(dataFingerprint, x);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(logitsTmp); // a failing teacher or data source leaves no temporary file behind
            throw e;
        }
        if (examples == 0) {
            Files.deleteIfExists(logitsTmp);
            throw new IllegalArgumentException("cannot build a teacher cache from an empty data iterator");
        }
        long[] inOrder = Arrays.copyOf(hashes, (int) examples);
        Integer[] order = new Integer[(int) examples];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(inOrder[a], inOrder[b]));

        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        CRC32 crc = new CRC32();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.position(CacheHeader.SIZE);
            try (OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(raw, crc), 1 << 20))) {
                Files.copy(logitsTmp, out);
                for (long h : inOrder) {
                    out.writeLong(h);
                }
                for (Integer i : order) {
                    out.writeLong(inOrder[i]);
                }
                for (Integer i : order) {
                    out.writeInt(i);
                }
                out.flush();
                if (classes % blockWeights.length != 0) {
                    throw new IllegalArgumentException("a teacher of " + blockWeights.length + " stacked blocks produced "
                            + classes + " columns, not a multiple of " + blockWeights.length);
                }
                CacheHeader header = new CacheHeader("float32", examples, classes / blockWeights.length, 0,
                        teacher.fingerprint(), Long.toHexString(dataFingerprint), crc.getValue(), blockWeights.clone());
                ByteBuffer hb = header.encode();
                ch.position(0);
                while (hb.hasRemaining()) {
                    ch.write(hb);
                }
                ch.force(true);
            }
        } finally {
            Files.deleteIfExists(logitsTmp);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        String summary = "teacher cache " + file + ": " + examples + " examples x " + classes + " classes"
                + (blockWeights.length == 1 ? "" : " (" + blockWeights.length + " stacked teachers)") + ", "
                + Files.size(file) + " bytes";
        LOG.info(summary);
        return summary;
    }

    /** Opens a cache, verifying its header, size and checksum (see {@link CachedTeacher}). */
    public static CachedTeacher open(Path file) throws IOException {
        return CachedTeacher.open(file, null);
    }

    /** Opens a cache and also refuses it unless it was built by a teacher with this fingerprint. */
    public static CachedTeacher open(Path file, Teacher expectedTeacher) throws IOException {
        return CachedTeacher.open(file, expectedTeacher);
    }
}
