package io.kd4j.core.cache;

import io.kd4j.core.data.FeatureHash;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes and opens top-k teacher caches: for each example, the teacher's top-k classes, their
 * log-probabilities ({@code log_softmax(t / T)}, float32 or float16) and the log of the remaining
 * mass, plus the example's feature hash and a sorted hash index. At k = 32 over 32k classes with
 * float32 values an example takes 216 bytes on disk (dense float32 logits: 128,000).
 *
 * <p>Sequence teachers ({@code [batch, classes, time]} logits) get one record per valid step (the
 * batch's labels mask, else its features mask, else every step; masked steps are not stored), plus per
 * sequence its first record and a bit set of its stored steps (format version 2, see
 * {@link TopKCacheHeader}); all batches must have one sequence length (pad and mask).
 *
 * <p>Heap use is flat in the number of examples, writing and reading: records stream to disk, the
 * hash index is sorted in place in the memory-mapped file, the CRC-32 is computed streaming, and the
 * reader maps the file in windows (no 2 GiB limit). The file is written to a temporary name, forced
 * to disk and atomically renamed. See {@link CachedTopKTeacher} for the checks made on open.
 */
public final class TopKTeacherCache {
    private static final Logger LOG = LoggerFactory.getLogger(TopKTeacherCache.class);
    /** Default mapping window of readers and of the index sort. */
    static final long WINDOW = 1L << 30;

    private TopKTeacherCache() {
    }

    /** Runs the teacher over {@code data} (from its start) and writes a top-k cache to {@code file}. */
    public static String write(Teacher teacher, DataSetIterator data, Path file, TopKCacheOptions options)
            throws IOException {
        return write(teacher, data, file, options, WINDOW);
    }

    static String write(Teacher teacher, DataSetIterator data, Path file, TopKCacheOptions options, long window)
            throws IOException {
        Objects.requireNonNull(teacher, "teacher must not be null");
        Objects.requireNonNull(data, "data must not be null");
        Objects.requireNonNull(file, "file must not be null");
        Objects.requireNonNull(options, "options must not be null");
        if (data.resetSupported()) {
            data.reset();
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String base = file.getFileName().toString();
        Path recordsTmp = Files.createTempFile(dir, base, ".records.tmp");
        Path hashesTmp = Files.createTempFile(dir, base, ".hashes.tmp");
        Path startsTmp = Files.createTempFile(dir, base, ".starts.tmp");
        Path stepsTmp = Files.createTempFile(dir, base, ".steps.tmp");
        Path tmp = Files.createTempFile(dir, base, ".tmp");
        try {
            Records r = new Records(options);
            try (DataOutputStream rec = stream(recordsTmp); DataOutputStream hs = stream(hashesTmp);
                 DataOutputStream starts = stream(startsTmp); DataOutputStream steps = stream(stepsTmp)) {
                while (data.hasNext()) {
                    DataSet ds = data.next();
                    INDArray logits = teacher.logits(new TeacherBatch(ds.getFeatures(), ds.getFeaturesMaskArray(),
                            r.examples));
                    INDArray mask = ds.getLabelsMaskArray() != null ? ds.getLabelsMaskArray() : ds.getFeaturesMaskArray();
                    r.add(logits, mask, rec, starts, steps);
                    for (long h : FeatureHash.perExample(ds.getFeatures())) {
                        hs.writeLong(h);
                        r.fingerprint = FeatureHash.combine(r.fingerprint, h);
                    }
                }
            }
            if (r.examples == 0) {
                throw new IllegalArgumentException("cannot build a teacher cache from an empty data iterator");
            }
            int classes = r.classes;
            long examples = r.examples;
            TopKCacheHeader header = new TopKCacheHeader(options.float16() ? "float16" : "float32",
                    classes <= 65536 ? "uint16" : "int32", examples, classes, options.k(), options.temperature(),
                    teacher.fingerprint(), Long.toHexString(r.fingerprint), 0, Math.max(r.time, 0), r.tokens);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.position(TopKCacheHeader.SIZE);
                try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch),
                        1 << 20))) {
                    Files.copy(recordsTmp, out);
                    Files.copy(hashesTmp, out);
                    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(hashesTmp),
                            1 << 20))) {
                        for (long row = 0; row < examples; row++) {
                            out.writeLong(in.readLong());
                            out.writeInt((int) row);
                        }
                    }
                    Files.copy(startsTmp, out); // sequences: each example's first record (empty otherwise)
                    Files.copy(stepsTmp, out); // sequences: each example's stored steps (empty otherwise)
                    out.flush();
                    MappedWindows map = new MappedWindows(ch, FileChannel.MapMode.READ_WRITE, ch.size(), window, 64);
                    sortIndex(map, header.indexOffset(), examples);
                    map.force();
                    header = header.withCrc(crc(ch, TopKCacheHeader.SIZE));
                    ByteBuffer hb = header.encode();
                    ch.position(0);
                    while (hb.hasRemaining()) {
                        ch.write(hb);
                    }
                    ch.force(true);
                }
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            String summary = r.time > 0
                    ? String.format(java.util.Locale.ROOT, "top-k teacher cache %s: %d sequences x %d steps, %d valid "
                            + "steps stored, k=%d of %d classes, %s, %.1f bytes/stored token (dense float32: %d)",
                            file, examples, r.time, r.tokens, options.k(), classes, header.dtype(),
                            (header.fileBytes() - TopKCacheHeader.SIZE) / (double) Math.max(1, r.tokens), 4L * classes)
                    : "top-k teacher cache " + file + ": " + examples + " examples x k=" + options.k() + " of "
                            + classes + " classes, " + header.dtype() + ", " + header.bytesPerExample()
                            + " bytes/example (dense float32: " + 4L * classes + ")";
            LOG.info(summary);
            return summary;
        } finally {
            Files.deleteIfExists(recordsTmp);
            Files.deleteIfExists(hashesTmp);
            Files.deleteIfExists(startsTmp);
            Files.deleteIfExists(stepsTmp);
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The records written so far: one per example for {@code [batch, classes]} teachers; for sequence
     * teachers {@code [batch, classes, time]} one per valid step (labels mask, else features mask, else
     * every step), with each example's first record and step bit set going to their own streams.
     */
    private static final class Records {
        private final TopKCacheOptions options;
        private long examples;
        private long tokens;
        private int classes = -1;
        private int time = -1;
        private long fingerprint = FeatureHash.start();
        private TopKRowEncoder enc;

        Records(TopKCacheOptions options) {
            this.options = options;
        }

        void add(INDArray logits, INDArray mask, DataOutputStream rec, DataOutputStream starts, DataOutputStream steps)
                throws IOException {
            if (logits.rank() != 2 && logits.rank() != 3) {
                throw new IllegalArgumentException("top-k caches hold [batch, classes] or [batch, classes, time] logits, "
                        + "got shape " + Arrays.toString(logits.shape()));
            }
            int t = logits.rank() == 3 ? (int) logits.size(2) : 0;
            if (classes < 0) {
                classes = (int) logits.size(1);
                time = t;
                if (options.k() > classes) {
                    throw new IllegalArgumentException("k must be <= classes=" + classes + ", got " + options.k());
                }
                enc = new TopKRowEncoder(classes, options);
            } else if (logits.size(1) != classes) {
                throw new IllegalArgumentException("teacher produced " + logits.size(1) + " classes after " + classes
                        + " in an earlier batch");
            } else if (t != time) {
                throw new IllegalArgumentException("teacher produced logits of shape " + Arrays.toString(logits.shape())
                        + " after " + (time == 0 ? "[batch, " + classes + "]" : "sequences of length " + time)
                        + "; a top-k cache holds one shape (pad sequences to one length and mask the padding)");
            }
            int n = (int) logits.size(0);
            if (time == 0) {
                double[] values = logits.castTo(DataType.DOUBLE).dup('c').data().asDouble();
                for (int i = 0; i < n; i++) {
                    enc.write(values, i * classes, rec, examples + i);
                }
                examples += n;
                tokens += n;
                return;
            }
            if (mask != null && (mask.rank() != 2 || mask.size(0) != n || mask.size(1) != time)) {
                throw new IllegalArgumentException("sequence masks must be [" + n + ", " + time + "], got "
                        + Arrays.toString(mask.shape()));
            }
            double[] m = mask == null ? null : mask.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[] values = logits.castTo(DataType.DOUBLE).permute(0, 2, 1).dup('c').data().asDouble(); // [n, T, C]
            byte[] bits = new byte[(time + 7) / 8];
            for (int i = 0; i < n; i++) {
                starts.writeLong(tokens);
                Arrays.fill(bits, (byte) 0);
                for (int s = 0; s < time; s++) {
                    if (m == null || m[i * time + s] != 0) {
                        enc.write(values, (i * time + s) * classes, rec, examples + i);
                        bits[s / 8] |= (byte) (1 << (s % 8));
                        tokens++;
                    }
                }
                steps.write(bits);
            }
            examples += n;
        }
    }

    private static DataOutputStream stream(Path p) throws IOException {
        return new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(p), 1 << 20));
    }

    /** Heapsort of the (hash, row) entries by hash, in place in the mapped file (no heap). */
    private static void sortIndex(MappedWindows m, long base, long n) {
        for (long i = n / 2 - 1; i >= 0; i--) {
            siftDown(m, base, i, n);
        }
        for (long end = n - 1; end > 0; end--) {
            swap(m, base, 0, end);
            siftDown(m, base, 0, end);
        }
    }

    private static void siftDown(MappedWindows m, long base, long i, long n) {
        while (true) {
            long child = 2 * i + 1;
            if (child >= n) {
                return;
            }
            if (child + 1 < n && key(m, base, child + 1) > key(m, base, child)) {
                child++;
            }
            if (key(m, base, i) >= key(m, base, child)) {
                return;
            }
            swap(m, base, i, child);
            i = child;
        }
    }

    private static long key(MappedWindows m, long base, long i) {
        return m.getLong(base + i * TopKCacheHeader.INDEX_ENTRY);
    }

    private static void swap(MappedWindows m, long base, long a, long b) {
        long pa = base + a * TopKCacheHeader.INDEX_ENTRY;
        long pb = base + b * TopKCacheHeader.INDEX_ENTRY;
        long ha = m.getLong(pa);
        int ra = m.getInt(pa + 8);
        m.putLong(pa, m.getLong(pb));
        m.putInt(pa + 8, m.getInt(pb + 8));
        m.putLong(pb, ha);
        m.putInt(pb + 8, ra);
    }

    /** CRC-32 of the channel's bytes from {@code from} to its end, streamed through a direct buffer. */
    static long crc(FileChannel ch, long from) throws IOException {
        CRC32 crc = new CRC32();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long pos = from;
        while (true) {
            buf.clear();
            int r = ch.read(buf, pos);
            if (r <= 0) {
                break;
            }
            buf.flip();
            crc.update(buf);
            pos += r;
        }
        return crc.getValue();
    }

    /** The data fingerprint a cache built from {@code data} records (resets the iterator, reads features only). */
    public static String dataFingerprint(DataSetIterator data) {
        if (data.resetSupported()) {
            data.reset();
        }
        long fingerprint = FeatureHash.start();
        while (data.hasNext()) {
            for (long h : FeatureHash.perExample(data.next().getFeatures())) {
                fingerprint = FeatureHash.combine(fingerprint, h);
            }
        }
        if (data.resetSupported()) {
            data.reset();
        }
        return Long.toHexString(fingerprint);
    }

    /** Opens a top-k cache; checks header, size and checksums (see {@link CachedTopKTeacher}). */
    public static CachedTopKTeacher open(Path file) throws IOException {
        return CachedTopKTeacher.open(file, null, 0, null, WINDOW);
    }

    /**
     * Opens a top-k cache and refuses it unless it was built by {@code expectedTeacher} (when not null),
     * with {@code expectedK} classes per example (when &gt; 0) from the data of fingerprint
     * {@code expectedData} (when not null; see {@link #dataFingerprint}).
     */
    public static CachedTopKTeacher open(Path file, Teacher expectedTeacher, int expectedK, String expectedData)
            throws IOException {
        return CachedTopKTeacher.open(file, expectedTeacher, expectedK, expectedData, WINDOW);
    }
}
