package io.kd4j.examples.scale;

import io.kd4j.core.cache.ComputedLogits;
import io.kd4j.core.cache.ParallelTeacherCache;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.feature.FeatureTargets;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Teacher outputs computed by Spark executors, in a stage of their own, before any student training:
 * the teacher network is broadcast once (as a DL4J model zip), each partition restores it once and
 * runs it in inference mode over its batches.
 *
 * <ul>
 *   <li>{@link #writeCache}: the teacher-output cache, written by the driver alone (one writer) with
 *       kd-core's {@link ParallelTeacherCache#writeComputed}, so the file has exactly the format and
 *       the logits of a sequential {@code TeacherCache.write} over the same batches.</li>
 *   <li>{@link #attach}: packed batches ({@code [one-hot | teacher | epoch]}) built by kd-core's
 *       {@link TeacherTargetIterator} on the executors, persisted and materialised, so the student's
 *       Spark fit reads them without running the teacher.</li>
 *   <li>{@link #attachFeatures}: the same for feature distillation: the packed logits plus the teacher's
 *       tapped activations ({@link FeatureTargets}), as MultiDataSets.</li>
 * </ul>
 */
public final class SparkTeacherOutputs {
    private SparkTeacherOutputs() {
    }

    /**
     * Builds the teacher-output cache of {@code batches} (in RDD order) on the executors and writes
     * it to {@code file} on the driver. The batches' features travel back to the driver (the cache
     * stores their hashes); memory on the driver is one partition at a time.
     *
     * @return the cache summary
     */
    public static String writeCache(JavaSparkContext sc, Model teacherNetwork, JavaRDD<DataSet> batches, Path file)
            throws IOException {
        Objects.requireNonNull(sc, "sc must not be null");
        Objects.requireNonNull(batches, "batches must not be null");
        Objects.requireNonNull(file, "file must not be null");
        Teacher driverTeacher = teacherOf(teacherNetwork);
        Broadcast<byte[]> zip = sc.broadcast(zip(teacherNetwork));
        boolean graph = teacherNetwork instanceof ComputationGraph;
        String expected = driverTeacher.fingerprint();
        JavaRDD<DataSet> logits = batches.mapPartitions(new ComputeLogits(zip, graph, expected))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            logits.count(); // all partitions in parallel; the writer then streams them in order
            Iterator<DataSet> inOrder = logits.toLocalIterator();
            Iterator<ComputedLogits> computed = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return inOrder.hasNext();
                }

                @Override
                public ComputedLogits next() {
                    DataSet ds = inOrder.next();
                    return new ComputedLogits(ds.getFeatures(), ds.getFeaturesMaskArray(), ds.getLabels());
                }
            };
            return ParallelTeacherCache.writeComputed(computed, expected, driverTeacher.describe(), file);
        } finally {
            logits.unpersist(false);
            zip.destroy();
        }
    }

    /**
     * Packs the labels of {@code batches} with the teacher's outputs on the executors, and returns the
     * packed batches persisted and materialised (the teacher has finished before this returns).
     */
    public static JavaRDD<DataSet> attach(JavaSparkContext sc, Model teacherNetwork, JavaRDD<DataSet> batches,
                                          TargetLayout layout) {
        Objects.requireNonNull(sc, "sc must not be null");
        Objects.requireNonNull(batches, "batches must not be null");
        Objects.requireNonNull(layout, "layout must not be null");
        String expected = teacherOf(teacherNetwork).fingerprint();
        Broadcast<byte[]> zip = sc.broadcast(zip(teacherNetwork));
        boolean graph = teacherNetwork instanceof ComputationGraph;
        int classes = layout.classes();
        int topK = layout.topK();
        JavaRDD<DataSet> packed = batches.mapPartitions(new Attach(zip, graph, expected, classes, topK))
                .persist(StorageLevel.MEMORY_AND_DISK());
        packed.count();
        return packed;
    }

    /**
     * Feature distillation: packs the logit labels of {@code batches} and attaches the teacher's
     * activations of the tapped layers ({@code targets}, from {@code FeatureTraining.targets()}) on the
     * executors, and returns the MultiDataSets persisted and materialised.
     */
    public static JavaRDD<MultiDataSet> attachFeatures(JavaSparkContext sc, Model teacherNetwork,
                                                       JavaRDD<DataSet> batches, TargetLayout layout,
                                                       FeatureTargets targets) {
        Objects.requireNonNull(sc, "sc must not be null");
        Objects.requireNonNull(batches, "batches must not be null");
        Objects.requireNonNull(layout, "layout must not be null");
        Objects.requireNonNull(targets, "targets must not be null");
        String expected = teacherOf(teacherNetwork).fingerprint();
        Broadcast<byte[]> zip = sc.broadcast(zip(teacherNetwork));
        boolean graph = teacherNetwork instanceof ComputationGraph;
        JavaRDD<MultiDataSet> packed = batches.mapPartitions(new AttachFeatures(zip, graph, expected, layout.classes(),
                layout.topK(), targets)).persist(StorageLevel.MEMORY_AND_DISK());
        packed.count();
        return packed;
    }

    private static Teacher teacherOf(Model network) {
        if (network instanceof MultiLayerNetwork m) {
            return Teacher.of(m);
        }
        if (network instanceof ComputationGraph g) {
            return Teacher.of(g);
        }
        throw new IllegalArgumentException("teacherNetwork must be a MultiLayerNetwork or ComputationGraph, got "
                + (network == null ? "null" : network.getClass().getName()));
    }

    private static byte[] zip(Model network) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ModelSerializer.writeModel(network, out, false);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("could not serialise the teacher network for broadcast", e);
        }
    }

    private static Teacher restore(byte[] zip, boolean graph, String expectedFingerprint) throws IOException {
        Teacher teacher = graph
                ? Teacher.of(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip), false))
                : Teacher.of(ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false));
        if (!teacher.fingerprint().equals(expectedFingerprint)) {
            throw new IllegalStateException("the teacher restored on the executor has fingerprint "
                    + teacher.fingerprint() + ", the driver's has " + expectedFingerprint);
        }
        return teacher;
    }

    // Executor functions are classes, not lambdas: serialised lambdas failed to deserialise on JDK 17
    // ("too many arguments").

    /** Per partition: restore the teacher once, return each batch with its logits as labels. */
    private static final class ComputeLogits implements FlatMapFunction<Iterator<DataSet>, DataSet> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> zip;
        private final boolean graph;
        private final String expected;

        ComputeLogits(Broadcast<byte[]> zip, boolean graph, String expected) {
            this.zip = zip;
            this.graph = graph;
            this.expected = expected;
        }

        @Override
        public Iterator<DataSet> call(Iterator<DataSet> part) throws IOException {
            Teacher teacher = restore(zip.value(), graph, expected);
            List<DataSet> out = new ArrayList<>();
            while (part.hasNext()) {
                DataSet ds = part.next();
                out.add(new DataSet(ds.getFeatures(),
                        teacher.logits(new TeacherBatch(ds.getFeatures(), ds.getFeaturesMaskArray(), 0)),
                        ds.getFeaturesMaskArray(), null));
            }
            return out.iterator();
        }
    }

    /** Per partition: restore the teacher once, pack the labels with TeacherTargetIterator. */
    private static final class Attach implements FlatMapFunction<Iterator<DataSet>, DataSet> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> zip;
        private final boolean graph;
        private final String expected;
        private final int classes;
        private final int topK;

        Attach(Broadcast<byte[]> zip, boolean graph, String expected, int classes, int topK) {
            this.zip = zip;
            this.graph = graph;
            this.expected = expected;
            this.classes = classes;
            this.topK = topK;
        }

        @Override
        public Iterator<DataSet> call(Iterator<DataSet> part) throws IOException {
            List<DataSet> plain = new ArrayList<>();
            part.forEachRemaining(plain::add);
            if (plain.isEmpty()) {
                return plain.iterator();
            }
            Teacher teacher = restore(zip.value(), graph, expected);
            return PackedBatches.pack(new ListDataSetIterator<>(plain, 1), teacher, new TargetLayout(classes, topK))
                    .iterator();
        }
    }

    /** Per partition: restore the teacher once, pack the logits, attach the tapped activations. */
    private static final class AttachFeatures implements FlatMapFunction<Iterator<DataSet>, MultiDataSet> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> zip;
        private final boolean graph;
        private final String expected;
        private final int classes;
        private final int topK;
        private final FeatureTargets targets;

        AttachFeatures(Broadcast<byte[]> zip, boolean graph, String expected, int classes, int topK,
                       FeatureTargets targets) {
            this.zip = zip;
            this.graph = graph;
            this.expected = expected;
            this.classes = classes;
            this.topK = topK;
            this.targets = targets;
        }

        @Override
        public Iterator<MultiDataSet> call(Iterator<DataSet> part) throws IOException {
            List<DataSet> plain = new ArrayList<>();
            part.forEachRemaining(plain::add);
            if (plain.isEmpty()) {
                return new ArrayList<MultiDataSet>().iterator();
            }
            Teacher teacher = restore(zip.value(), graph, expected);
            return PackedBatches.packFeatures(new ListDataSetIterator<>(plain, 1), teacher,
                    new TargetLayout(classes, topK), targets).iterator();
        }
    }
}
