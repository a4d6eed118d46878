package io.kd4j.core.train;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
    private final Objective objective;
    private final int epochs;
    private final long seed;
    private final String dataDescription;
    private final PrintStream progress;
    private final int printEvery;
    private final List<TrainingListener> listeners;
    private final io.kd4j.core.strategy.SampleWeights sampleWeights;

    private Distiller(Builder b) {
        this.teacher = Objects.requireNonNull(b.teacher, "teacher must be set");
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
        this.sampleWeights = b.sampleWeights;
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
     * @throws NonFiniteLossException when a loss term, the score or the parameters become non-finite
     */
    public DistillationResult distill(Student student, DataSetIterator train) {
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(train, "training iterator must not be null");
        int classes = student.numClasses();
        checkFirstBatch(train, classes);

        Nd4j.getRandom().setSeed(seed);
        TargetLayout layout = TargetLayout.dense(classes);
        DistillationLossFunction loss = DistillationLossFunction.of(objective, layout);
        TrainingModel model = student.trainingModel(loss);
        TeacherTargetIterator data = new TeacherTargetIterator(train, teacher, layout);
        TermListener terms = new TermListener(data, progress, printEvery, epochs);
        List<TrainingListener> all = new ArrayList<>(listeners);
        all.add(terms);
        model.addListeners(all.toArray(new TrainingListener[0]));

        List<EpochStats> stats = new ArrayList<>();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            if (train.resetSupported()) {
                data.reset();
            }
            data.setEpoch(epoch);
            terms.startEpoch(epoch);
            long teacherBefore = data.teacherNanos();
            long examplesBefore = data.examples();
            long start = System.nanoTime();
            model.fit(sampleWeights == null ? data
                    : new io.kd4j.core.strategy.SampleWeightingIterator(data, sampleWeights, layout));
            long fitNanos = System.nanoTime() - start;
            long teacherNanos = data.teacherNanos() - teacherBefore;
            checkParameters(model.params(), epoch);
            EpochStats e = new EpochStats(epoch, terms.iterations(), data.examples() - examplesBefore, terms.means(),
                    teacherNanos / 1e9, (fitNanos - teacherNanos) / 1e9);
            stats.add(e);
            LOG.info("epoch {}/{}: {}", epoch, epochs, e.meanTerms());
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("epochs", epochs);
        settings.put("batchSize", train.batch());
        settings.put("objective", objective.describe());
        if (sampleWeights != null) {
            settings.put("sampleWeights", sampleWeights.toString());
        }
        DistillationReport report = new DistillationReport(teacher.describe(), student.describe(), objective.describe(),
                settings, seed, dataDescription, stats);
        return new DistillationResult(model.exportPlain(), report);
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
        INDArray logits = teacher.logits(new TeacherBatch(first.getFeatures(), first.getFeaturesMaskArray(), 0));
        if (logits.size(1) != classes) {
            throw new IllegalArgumentException("the teacher produces " + logits.size(1) + " classes but the student's "
                    + "output layer has nOut=" + classes);
        }
        train.reset();
    }

    private static void checkParameters(INDArray params, int epoch) {
        double sum = params.sumNumber().doubleValue();
        if (!Double.isFinite(sum)) {
            throw new NonFiniteLossException("student parameters became non-finite during epoch " + epoch
                    + "; stopping: the student is not saved");
        }
    }

    /** Builder of a {@link Distiller}. */
    public static final class Builder {
        private Teacher teacher;
        private Objective objective;
        private int epochs = 1;
        private long seed = 42;
        private String dataDescription = "unspecified";
        private PrintStream progress;
        private int printEvery = 50;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private io.kd4j.core.strategy.SampleWeights sampleWeights;

        private Builder() {
        }

        /** The frozen teacher (online network or a cache). */
        public Builder teacher(Teacher teacher) {
            this.teacher = teacher;
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
