package io.kd4j.core.cache;

import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Builds a teacher-output cache with the teacher's inference spread over several threads (or
 * computed elsewhere, e.g. on Spark executors), and a single writer: the file is written by
 * {@link TeacherCache#write}, so it has exactly the format, header, checksum and atomic rename of a
 * sequential build, and its logits equal the sequential build's.
 *
 * <p>Teacher inference is embarrassingly parallel: each batch is independent. {@link #write(List,
 * DataSetIterator, Path)} gives each thread its own teacher copy (DL4J networks keep per-thread
 * workspaces and are not safe to share between threads), runs up to {@code 2 × copies} batches ahead
 * of the writer and hands their logits to the writer in data order, so memory stays bounded.
 * {@link #writeComputed} takes logits that were computed elsewhere, in data order.
 */
public final class ParallelTeacherCache {

    private ParallelTeacherCache() {
    }

    /**
     * Runs the teacher over {@code data} (from its start) on {@code copies.size()} threads, one teacher
     * copy per thread, and writes the cache to {@code file}.
     *
     * @param copies independent copies of the same teacher (equal fingerprints, distinct objects), e.g.
     *               {@code Teacher.of(net)} called once per thread; at least one
     * @return the cache summary of {@link TeacherCache#write}
     */
    public static String write(List<? extends Teacher> copies, DataSetIterator data, Path file) throws IOException {
        Objects.requireNonNull(copies, "copies must not be null");
        Objects.requireNonNull(data, "data must not be null");
        Objects.requireNonNull(file, "file must not be null");
        if (copies.isEmpty()) {
            throw new IllegalArgumentException("copies must hold at least one teacher, got 0");
        }
        Map<Teacher, Integer> seen = new IdentityHashMap<>();
        String fingerprint = Objects.requireNonNull(copies.get(0), "copies[0] must not be null").fingerprint();
        for (int i = 0; i < copies.size(); i++) {
            Teacher t = Objects.requireNonNull(copies.get(i), "copies[" + i + "] must not be null");
            Integer before = seen.put(t, i);
            if (before != null) {
                throw new IllegalArgumentException("teacher copies must be distinct objects (each runs on its own "
                        + "thread), but copies[" + before + "] and copies[" + i + "] are the same object");
            }
            if (!t.fingerprint().equals(fingerprint)) {
                throw new IllegalArgumentException("teacher copies must be copies of one teacher, but copies[0] has "
                        + "fingerprint " + fingerprint + " and copies[" + i + "] has " + t.fingerprint());
            }
        }
        if (data.resetSupported()) {
            data.reset();
        }
        int threads = copies.size();
        ConcurrentLinkedQueue<Teacher> free = new ConcurrentLinkedQueue<>(copies);
        ThreadLocal<Teacher> own = ThreadLocal.withInitial(free::poll);
        AtomicInteger ids = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "kd4j-cache-teacher-" + ids.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        try {
            Replay replay = new Replay(new Pipeline(data, pool, own, 2 * threads), fingerprint, copies.get(0).describe(),
                    copies.get(0).blockWeights());
            return TeacherCache.write(replay, replay, file);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Writes a cache from logits computed elsewhere (another process, Spark executors), given in data
     * order. The cache records {@code teacherFingerprint}, so {@link TeacherCache#open(Path, Teacher)}
     * accepts it for that teacher only.
     *
     * @param batches the batches in data order, each with its features and the teacher's logits
     * @param teacherFingerprint the fingerprint of the teacher that computed the logits ({@link Teacher#fingerprint()})
     * @param teacherDescription a description of that teacher, for logs
     * @return the cache summary of {@link TeacherCache#write}
     */
    public static String writeComputed(Iterator<ComputedLogits> batches, String teacherFingerprint,
                                       String teacherDescription, Path file) throws IOException {
        Objects.requireNonNull(batches, "batches must not be null");
        Objects.requireNonNull(teacherFingerprint, "teacherFingerprint must not be null");
        Objects.requireNonNull(file, "file must not be null");
        if (teacherFingerprint.isBlank()) {
            throw new IllegalArgumentException("teacherFingerprint must not be blank");
        }
        Replay replay = new Replay(batches, teacherFingerprint,
                teacherDescription == null ? "teacher " + teacherFingerprint : teacherDescription, new double[] {1.0});
        return TeacherCache.write(replay, replay, file);
    }

    /** Runs the teacher copies ahead of the writer, and yields their results in data order. */
    private static final class Pipeline implements Iterator<ComputedLogits> {
        private record Pending(INDArray features, INDArray mask, Future<INDArray> logits) {
        }

        private final DataSetIterator data;
        private final ExecutorService pool;
        private final ThreadLocal<Teacher> own;
        private final int depth;
        private final Deque<Pending> pending = new ArrayDeque<>();
        private long position;

        Pipeline(DataSetIterator data, ExecutorService pool, ThreadLocal<Teacher> own, int depth) {
            this.data = data;
            this.pool = pool;
            this.own = own;
            this.depth = depth;
        }

        private void fill() {
            while (pending.size() < depth && data.hasNext()) {
                org.nd4j.linalg.dataset.api.DataSet ds = data.next();
                INDArray features = ds.getFeatures();
                if (features == null) {
                    throw new IllegalArgumentException("each batch needs features, got null at example " + position);
                }
                INDArray mask = ds.getFeaturesMaskArray();
                long first = position;
                position += features.size(0);
                pending.add(new Pending(features, mask,
                        pool.submit(() -> own.get().logits(new TeacherBatch(features, mask, first)))));
            }
        }

        @Override
        public boolean hasNext() {
            fill();
            return !pending.isEmpty();
        }

        @Override
        public ComputedLogits next() {
            fill();
            Pending p = pending.poll();
            if (p == null) {
                throw new NoSuchElementException("no more batches");
            }
            try {
                return new ComputedLogits(p.features(), p.mask(), p.logits().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the teacher's logits", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("the teacher failed: " + e.getCause(), e.getCause());
            }
        }
    }

    /**
     * Feeds precomputed batches to {@link TeacherCache#write}: the data iterator yields each batch's
     * features, and the teacher returns the logits that came with them.
     */
    private static final class Replay implements DataSetIterator, Teacher {
        private static final long serialVersionUID = 1L;

        private final transient Iterator<ComputedLogits> source;
        private final String fingerprint;
        private final String description;
        private final double[] blockWeights;
        private transient ComputedLogits current;

        Replay(Iterator<ComputedLogits> source, String fingerprint, String description, double[] blockWeights) {
            this.source = source;
            this.fingerprint = fingerprint;
            this.description = description;
            this.blockWeights = blockWeights.clone();
        }

        @Override
        public double[] blockWeights() {
            return blockWeights.clone();
        }

        @Override
        public DataSet next() {
            current = Objects.requireNonNull(source.next(), "batches must not yield null");
            return new DataSet(current.features(), null, current.featuresMask(), null);
        }

        @Override
        public DataSet next(int num) {
            throw new UnsupportedOperationException("next(num) is not supported by precomputed batches");
        }

        @Override
        public boolean hasNext() {
            return source.hasNext();
        }

        @Override
        public INDArray logits(TeacherBatch batch) {
            if (current == null || batch.features() != current.features()) {
                throw new IllegalStateException("the cache writer asked for the logits of a batch it was not given");
            }
            return current.logits();
        }

        @Override
        public String describe() {
            return description;
        }

        @Override
        public String fingerprint() {
            return fingerprint;
        }

        @Override
        public int inputColumns() {
            throw new UnsupportedOperationException("inputColumns is not known for precomputed batches");
        }

        @Override
        public int totalOutcomes() {
            throw new UnsupportedOperationException("totalOutcomes is not known for precomputed batches");
        }

        @Override
        public boolean resetSupported() {
            return false;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException("precomputed batches cannot be reset");
        }

        @Override
        public int batch() {
            throw new UnsupportedOperationException("batch size is not known for precomputed batches");
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            throw new UnsupportedOperationException("precomputed batches take no preprocessor");
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return null;
        }

        @Override
        public List<String> getLabels() {
            return null;
        }
    }
}
