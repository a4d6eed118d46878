package io.kd4j.core.train;

import io.kd4j.core.checkpoint.Checkpointing;
import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.metrics.Agreement;
import io.kd4j.core.metrics.Evaluation;
import io.kd4j.core.metrics.Predictions;
import io.kd4j.core.metrics.StudentEvaluation;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a student from a frozen teacher with an objective of weighted, named loss terms, through
 * DL4J's own {@code fit}. A distiller is an immutable, reusable factory (build it once, distil many
 * students).
 *
 * <pre>{@code
 * DistillationResult r = Distiller.builder()
 *         .teacher(Teacher.of(teacherNet))
 *         .objective("0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)")
 *         .epochs(5).seed(42)
 *         .build()
 *         .distill(Student.of(studentNet), trainIterator);
 * }</pre>
 *
 * <p>Dataflow: a {@link TeacherTargetIterator} attaches the teacher's logits (online inference or a
 * cache) to each batch before the student's fit sees it; the student's training copy has a
 * {@link DistillationLossFunction} output loss that unpacks them. See docs/architecture.md.
 */
public final class Distiller {
    private static final Logger LOG = LoggerFactory.getLogger(Distiller.class);

    private final Teacher teacher;
    private final CachedTopKTeacher topKCache;
    private final Objective objective;
    private final int epochs;
    private final long seed;
    private final String dataDescription;
    private final PrintStream progress;
    private final int printEvery;
    private final List<TrainingListener> listeners;
    private final NonFinitePolicy nonFinitePolicy;
    private final Checkpointing checkpointing;
    private final DataSetIterator evaluationData;
    private final io.kd4j.core.strategy.SampleWeights sampleWeights;

    /** The run settings {@link DistillationRun} reads. */
    record Settings(int epochs, long seed, PrintStream progress, int printEvery, List<TrainingListener> listeners,
                    NonFinitePolicy nonFinitePolicy, Checkpointing checkpointing) {
    }

    private Distiller(Builder b) {
        if (b.teacher == null && b.topKCache == null) {
            throw new NullPointerException("teacher (or a top-k teacher cache) must be set");
        }
        if (b.teacher != null && b.topKCache != null) {
            throw new IllegalArgumentException("set either a teacher or a top-k teacher cache, not both");
        }
        this.teacher = b.teacher;
        this.topKCache = b.topKCache;
        this.objective = Objects.requireNonNull(b.objective, "objective must be set");
        if (b.epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + b.epochs);
        }
        if (b.printEvery < 0) {
            throw new IllegalArgumentException("printEvery must be >= 0, got " + b.printEvery);
        }
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.dataDescription = b.dataDescription;
        this.progress = b.progress;
        this.printEvery = b.printEvery;
        this.listeners = List.copyOf(b.listeners);
        this.evaluationData = b.evaluationData;
        this.sampleWeights = b.sampleWeights;
        this.nonFinitePolicy = Objects.requireNonNull(b.nonFinitePolicy, "nonFinitePolicy must not be null");
        this.checkpointing = b.checkpointing;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The objective. */
    public Objective objective() {
        return objective;
    }

    /**
     * Distils {@code student} from the teacher over {@code train} for the configured epochs.
     *
     * @param train labelled training data, one-hot labels {@code [batch, classes]}; resettable when
     *              epochs &gt; 1
     * @return the trained plain student and the report
     * @throws NonFiniteLossException with {@link NonFinitePolicy#STOP}, when a batch's features or
     *         teacher outputs, a loss term, the score, the gradient or the parameters become non-finite
     * @throws IllegalArgumentException when the checkpoint directory holds another run's checkpoint
     */
    public DistillationResult distill(Student student, DataSetIterator train) {
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(train, "training iterator must not be null");
        int classes = student.numClasses();
        checkFirstBatch(train, classes);

        Nd4j.getRandom().setSeed(seed);
        TargetLayout layout = topKCache == null ? TeacherTargetIterator.layoutFor(teacher, classes)
                : new TargetLayout(classes, topKCache.k());
        DistillationLossFunction loss = topKCache == null
                ? DistillationLossFunction.of(objective, layout, teacher.blockWeights())
                : DistillationLossFunction.of(objective, layout);
        TrainingModel model = student.trainingModel(loss);
        if (sampleWeights != null) {
            model = io.kd4j.core.strategy.SampleWeightingIterator.training(model, sampleWeights, layout);
        }
        TeacherTargetIterator data = topKCache == null ? new TeacherTargetIterator(train, teacher, layout)
                : new TeacherTargetIterator(train, topKCache, layout);
        Settings settings = new Settings(epochs, seed, progress, printEvery, listeners, nonFinitePolicy, checkpointing);
        DistillationRun run = new DistillationRun(settings, model, runFingerprint(student, train));
        List<EpochStats> stats = run.run(train, data, classes);
        Map<String, Object> settingsReport = new LinkedHashMap<>();
        settingsReport.put("epochs", epochs);
        settingsReport.put("batchSize", train.batch());
        settingsReport.put("objective", objective.describe());
        settingsReport.put("nonFinitePolicy", nonFinitePolicy.name());
        if (sampleWeights != null) {
            settingsReport.put("sampleWeights", sampleWeights.toString());
        }
        DistillationReport report = new DistillationReport(teacherDescription(), student.describe(), objective.describe(),
                settingsReport, seed, dataDescription, stats);
        Model plain = model.exportPlain();
        return new DistillationResult(plain, report, Optional.ofNullable(evaluationData).map(d -> evaluate(plain, d)));
    }

    /** The student's metrics on {@code data}, and its agreement with the teacher unless that is a cache. */
    private StudentEvaluation evaluate(Model plain, DataSetIterator data) {
        Predictions studentPredictions = Predictions.of(plain, data);
        Optional<Agreement> agreement = teacher == null || teacher instanceof CachedTeacher ? Optional.empty()
                : Optional.of(Agreement.of(Predictions.of(teacher, data), studentPredictions));
        return new StudentEvaluation(Evaluation.of(studentPredictions), agreement);
    }

    /**
     * Identifies a run for its checkpoints: teacher fingerprint, the student's configuration and
     * initial parameters, objective, seed, epochs and batch size.
     */
    private String runFingerprint(Student student, DataSetIterator train) {
        Model net = student.network();
        String conf = net instanceof ComputationGraph g ? g.getConfiguration().toJson()
                : ((MultiLayerNetwork) net).getLayerWiseConfigurations().toJson();
        String run = "teacher=" + teacherFingerprint() + "\nobjective=" + objective.describe() + "\nseed=" + seed
                + "\nepochs=" + epochs + "\nbatch=" + train.batch() + "\nstudent=" + conf;
        return Fingerprints.of(run, net.params());
    }

    private void checkFirstBatch(DataSetIterator train, int classes) {
        if (train.resetSupported()) {
            train.reset();
        } else if (epochs > 1) {
            throw new IllegalArgumentException("training iterator must support reset() for epochs > 1");
        }
        if (!train.hasNext()) {
            throw new IllegalArgumentException("training iterator is empty: no batch to distil on");
        }
        if (!train.resetSupported()) {
            return;
        }
        DataSet first = train.next();
        INDArray labels = first.getLabels();
        if (labels == null || labels.rank() < 2 || labels.size(1) != classes) {
            throw new IllegalArgumentException("labels must be one-hot with " + classes + " columns (the student's "
                    + "output layer has nOut=" + classes + "), got " + (labels == null ? "null" : Arrays.toString(labels.shape())));
        }
        int blocks = topKCache != null ? 1 : teacher.blockWeights().length;
        long teacherClasses = topKCache != null ? topKCache.classes()
                : teacher.logits(new TeacherBatch(first.getFeatures(), first.getFeaturesMaskArray(), 0)).size(1);
        if (teacherClasses != (long) blocks * classes) {
            throw new IllegalArgumentException("the teacher produces " + teacherClasses + " classes"
                    + (blocks == 1 ? "" : " (" + blocks + " stacked teachers)") + " but the student's "
                    + "output layer has nOut=" + classes);
        }
        train.reset();
    }

    private String teacherDescription() {
        return topKCache == null ? teacher.describe() : topKCache.describe();
    }

    private String teacherFingerprint() {
        return topKCache == null ? teacher.fingerprint() : topKCache.teacherFingerprint();
    }

    /** Builder of a {@link Distiller}. */
    public static final class Builder {
        private Teacher teacher;
        private CachedTopKTeacher topKCache;
        private Objective objective;
        private int epochs = 1;
        private long seed = 42;
        private String dataDescription = "unspecified";
        private PrintStream progress;
        private int printEvery = 50;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private DataSetIterator evaluationData;
        private io.kd4j.core.strategy.SampleWeights sampleWeights;
        private NonFinitePolicy nonFinitePolicy = NonFinitePolicy.STOP;
        private Checkpointing checkpointing;

        private Builder() {
        }

        /** What to do with a batch that yields non-finite values (default {@link NonFinitePolicy#STOP}). */
        public Builder nonFinitePolicy(NonFinitePolicy policy) {
            this.nonFinitePolicy = Objects.requireNonNull(policy, "nonFinitePolicy must not be null");
            return this;
        }

        /**
         * Checkpoints the run to {@code directory} every {@code everyIterations} steps and at each epoch
         * end, and resumes from a checkpoint found there (see {@link Checkpointing}). The training
         * iterator must replay: after the same resets, a fresh iterator yields the same batches.
         */
        public Builder checkpoints(Path directory, int everyIterations) {
            this.checkpointing = new Checkpointing(directory, everyIterations);
            return this;
        }

        /** The frozen teacher (online network or a cache). */
        public Builder teacher(Teacher teacher) {
            this.teacher = teacher;
            return this;
        }

        /**
         * Distil from a top-k teacher cache instead of a teacher (the objective's teacher terms must be
         * sparse ones, e.g. {@code SparseTopKKl}); the packed labels then carry the top-k layout.
         */
        public Builder topKCache(CachedTopKTeacher cache) {
            this.topKCache = cache;
            return this;
        }

        /** The objective. */
        public Builder objective(Objective objective) {
            this.objective = objective;
            return this;
        }

        /** The objective as a formula, e.g. {@code 0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)}. */
        public Builder objective(String formula) {
            this.objective = Objective.parse(formula);
            return this;
        }

        /** Number of epochs, &gt;= 1 (default 1). */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Seed of ND4J's random generator for the run (dropout etc.; default 42). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** A description of the training data for the report's provenance. */
        public Builder data(String description) {
            this.dataDescription = Objects.requireNonNull(description, "data description");
            return this;
        }

        /** Where to print progress lines ({@code null}: none), and how often (iterations, 0 = never). */
        public Builder progress(PrintStream out, int everyIterations) {
            this.progress = out;
            this.printEvery = everyIterations;
            return this;
        }

        /**
         * Evaluates the distilled student on {@code data} after training (accuracy, confusion matrix,
         * ECE; and agreement with the teacher unless the teacher is a cache, which holds training
         * examples only): {@link DistillationResult#evaluation()}. Default: none.
         */
        public Builder evaluateOn(DataSetIterator data) {
            this.evaluationData = Objects.requireNonNull(data, "evaluation data");
            return this;
        }

        /** Adds DL4J training listeners to the student's training (they see DL4J's own fit). */
        public Builder listener(TrainingListener listener) {
            this.listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Per-example weights on the objective, computed per batch after the teacher ran (teacher
         * confidence or a user hook; see {@link io.kd4j.core.strategy.SampleWeights}); none by default.
         */
        public Builder sampleWeights(io.kd4j.core.strategy.SampleWeights weights) {
            this.sampleWeights = weights;
            return this;
        }

        public Distiller build() {
            return new Distiller(this);
        }
    }
}
