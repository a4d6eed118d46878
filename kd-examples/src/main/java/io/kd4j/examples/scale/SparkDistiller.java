package io.kd4j.examples.scale;

import io.kd4j.core.feature.FeatureTraining;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Distillation through DL4J's Spark trainers ({@link SparkDl4jMultiLayer} / {@link SparkComputationGraph}
 * with any {@link TrainingMaster}, e.g. parameter averaging). The student's training copy carries the
 * {@link DistillationLossFunction} in its configuration, which DL4J ships to the executors; the data
 * are packed batches whose labels already hold the teacher's outputs ({@link PackedBatches},
 * {@link SparkTeacherOutputs#attach}). No teacher runs inside the student's Spark fit.
 *
 * <p>Feature distillation ({@link #distillFeatures}) fits kd-core's feature training graph (student,
 * adapters and loss heads) with {@link SparkComputationGraph#fitMultiDataSet} on MultiDataSets that
 * already carry the teacher's tapped activations ({@link PackedBatches#packFeatures},
 * {@link SparkTeacherOutputs#attachFeatures}); the heads' feature losses travel in the graph's
 * configuration.
 *
 * @param epochs passes over the packed data, &gt;= 1; each pass sees its epoch in the packed labels
 */
public record SparkDistiller(int epochs) {
    public SparkDistiller {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
    }

    /** The trained plain student (original output layer) and the wall time of each epoch. */
    public record Result(Model student, List<Double> epochSeconds) {
    }

    /**
     * Distils {@code student} on {@code packed}: batches packed for the layout
     * {@code TargetLayout.dense(student.numClasses())}.
     */
    public Result distill(JavaSparkContext sc, Student student, Objective objective, JavaRDD<DataSet> packed,
                          TrainingMaster<?, ?> trainingMaster) {
        Objects.requireNonNull(sc, "sc must not be null");
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(objective, "objective must not be null");
        Objects.requireNonNull(packed, "packed must not be null");
        Objects.requireNonNull(trainingMaster, "trainingMaster must not be null");
        TargetLayout layout = TargetLayout.dense(student.numClasses());
        TrainingModel model = student.trainingModel(DistillationLossFunction.of(objective, layout));
        int epochColumn = layout.epochColumn();
        int width = layout.width();
        List<Double> seconds = new ArrayList<>();
        SparkDl4jMultiLayer mln = model.network() instanceof MultiLayerNetwork m
                ? new SparkDl4jMultiLayer(sc, m, trainingMaster) : null;
        SparkComputationGraph cg = model.network() instanceof ComputationGraph g
                ? new SparkComputationGraph(sc, g, trainingMaster) : null;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            int e = epoch;
            JavaRDD<DataSet> data = packed.map(new SetEpoch(width, epochColumn, epoch));
            long start = System.nanoTime();
            Model trained = mln != null ? mln.fit(data) : cg.fit(data);
            seconds.add((System.nanoTime() - start) / 1e9);
            if (trained != model.network()) {
                throw new IllegalStateException("the Spark trainer returned a network other than the student's training copy");
            }
            double sum = model.params().sumNumber().doubleValue();
            if (!Double.isFinite(sum)) {
                throw new IllegalStateException("student parameters became non-finite during epoch " + epoch);
            }
        }
        return new Result(model.exportPlain(), List.copyOf(seconds));
    }

    /**
     * Feature distillation: trains {@code training}'s graph (from {@code FeatureDistiller.prepare}) on
     * {@code packed} feature batches, built for {@code layout} and {@code training.targets()}, and
     * returns the exported plain student (adapters and heads dropped).
     */
    public Result distillFeatures(JavaSparkContext sc, FeatureTraining training, TargetLayout layout,
                                  JavaRDD<MultiDataSet> packed, TrainingMaster<?, ?> trainingMaster) {
        Objects.requireNonNull(sc, "sc must not be null");
        Objects.requireNonNull(training, "training must not be null");
        Objects.requireNonNull(layout, "layout must not be null");
        Objects.requireNonNull(packed, "packed must not be null");
        Objects.requireNonNull(trainingMaster, "trainingMaster must not be null");
        ComputationGraph graph = training.graph();
        SparkComputationGraph cg = new SparkComputationGraph(sc, graph, trainingMaster);
        int heads = training.taps().size();
        List<Double> seconds = new ArrayList<>();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            JavaRDD<MultiDataSet> data = packed.map(new SetFeatureEpoch(layout.width(), layout.epochColumn(), heads,
                    epoch));
            long start = System.nanoTime();
            ComputationGraph trained = cg.fitMultiDataSet(data);
            seconds.add((System.nanoTime() - start) / 1e9);
            if (trained != graph) {
                throw new IllegalStateException("the Spark trainer returned a network other than the training graph");
            }
            double sum = graph.params().sumNumber().doubleValue();
            if (!Double.isFinite(sum)) {
                throw new IllegalStateException("student parameters became non-finite during epoch " + epoch);
            }
        }
        return new Result(training.exportPlain(), List.copyOf(seconds));
    }

    /** Writes the epoch into each feature batch's packed logit block on the executor. */
    private static final class SetFeatureEpoch implements Function<MultiDataSet, MultiDataSet> {
        private static final long serialVersionUID = 1L;
        private final int width;
        private final int epochColumn;
        private final int heads;
        private final int epoch;

        SetFeatureEpoch(int width, int epochColumn, int heads, int epoch) {
            this.width = width;
            this.epochColumn = epochColumn;
            this.heads = heads;
            this.epoch = epoch;
        }

        @Override
        public MultiDataSet call(MultiDataSet ds) {
            if (ds.numLabelsArrays() != 1 + heads || ds.getLabels(0).size(1) != width) {
                throw new IllegalArgumentException("feature batches must have 1 + " + heads + " label arrays, the first "
                        + "with " + width + " columns, got " + ds.numLabelsArrays() + " arrays, the first with "
                        + ds.getLabels(0).size(1) + " columns: pack them with PackedBatches.packFeatures or "
                        + "SparkTeacherOutputs.attachFeatures");
            }
            return PackedBatches.withEpoch(ds, epochColumn, epoch);
        }
    }

    /** Writes the epoch into each packed batch on the executor (a class, not a lambda: see below). */
    // Serialised lambdas captured in this class failed to deserialise on JDK 17 ("too many arguments").
    private static final class SetEpoch implements Function<DataSet, DataSet> {
        private static final long serialVersionUID = 1L;
        private final int width;
        private final int epochColumn;
        private final int epoch;

        SetEpoch(int width, int epochColumn, int epoch) {
            this.width = width;
            this.epochColumn = epochColumn;
            this.epoch = epoch;
        }

        @Override
        public DataSet call(DataSet ds) {
            if (ds.getLabels().size(1) != width) {
                throw new IllegalArgumentException("packed labels must have " + width + " columns, got "
                        + ds.getLabels().size(1) + ": pack them with PackedBatches or SparkTeacherOutputs");
            }
            return PackedBatches.withEpoch(ds, epochColumn, epoch);
        }
    }
}
