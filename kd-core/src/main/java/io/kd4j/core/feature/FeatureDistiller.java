package io.kd4j.core.feature;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationReport;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.EpochStats;
import io.kd4j.core.train.NonFiniteLossException;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Logit plus feature distillation through DL4J's own fit: the logit objective on the student's
 * output and one weighted feature term per {@link Tap} on intermediate layers, each a named term in
 * the logs and the report. A separate entry point next to {@code Distiller} (which it leaves
 * unchanged); immutable and reusable.
 *
 * <pre>{@code
 * DistillationResult r = FeatureDistiller.builder()
 *         .teacher(Teacher.of(teacherNet))
 *         .objective("0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)")
 *         .tap(Tap.of("3", "5", 1000, "AttentionTransfer(p=2.0)"))
 *         .epochs(5).seed(42)
 *         .build()
 *         .distill(Student.of(studentNet), trainIterator);
 * }</pre>
 *
 * <p>The objective's total is {@code Σ objective terms + Σ_taps weight · feature loss + Σ_aux
 * auxiliary objective}. The saved student is the plain student (see {@link FeatureTraining#exportPlain()}).
 *
 * <p><b>Deep-supervision self-distillation</b> ("Be Your Own Teacher", Zhang et al. 2019): with
 * {@link Builder#selfTeacher()} the teacher is the student itself ({@link SelfTeacher}: its current
 * deepest output and activations, computed in the data pipeline), {@link AuxiliaryClassifier}s on
 * shallow layers learn from the labels and from the deepest classifier, and feature taps can hint the
 * shallow layers towards the deepest feature:
 * <pre>{@code
 * FeatureDistiller.builder().selfTeacher()
 *         .objective("CrossEntropy")                                               // the deepest classifier
 *         .auxiliaryClassifier(AuxiliaryClassifier.of("0", "0.7*CrossEntropy + 0.3*SoftTargetKl(temperature=3.0)"))
 *         .tap(Tap.of("0", "1", 0.03, "FitNetsHint"))                              // shallow → deepest feature
 *         .build().distill(Student.of(net), train);
 * }</pre>
 */
public final class FeatureDistiller {
    private final Teacher teacher;
    private final boolean selfTeacher;
    private final Objective objective;
    private final List<Tap> taps;
    private final List<AuxiliaryClassifier> auxiliary;
    private final int epochs;
    private final long seed;
    private final String dataDescription;
    private final PrintStream progress;
    private final int printEvery;
    private final List<TrainingListener> listeners;

    private FeatureDistiller(Builder b) {
        if (b.teacher == null && !b.selfTeacher) {
            throw new NullPointerException("teacher must be set (or selfTeacher() for self-distillation)");
        }
        if (b.teacher != null && b.selfTeacher) {
            throw new IllegalArgumentException("set either a teacher or selfTeacher(), not both");
        }
        this.teacher = b.teacher;
        this.selfTeacher = b.selfTeacher;
        this.objective = Objects.requireNonNull(b.objective, "objective must be set");
        if (b.taps.isEmpty() && b.auxiliary.isEmpty()) {
            throw new IllegalArgumentException("feature distillation needs at least one tap or auxiliary classifier; "
                    + "use Distiller for logit KD alone");
        }
        if (b.epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + b.epochs);
        }
        if (b.printEvery < 0) {
            throw new IllegalArgumentException("printEvery must be >= 0, got " + b.printEvery);
        }
        this.taps = List.copyOf(b.taps);
        this.auxiliary = List.copyOf(b.auxiliary);
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.dataDescription = b.dataDescription;
        this.progress = b.progress;
        this.printEvery = b.printEvery;
        this.listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The full objective as text: the logit formula plus each tap's weighted feature term. */
    public String describe() {
        StringBuilder s = new StringBuilder(objective.describe());
        for (Tap t : taps) {
            s.append(" + ").append(t.weight()).append('*').append(t.loss()).append('[').append(t.name()).append(": ")
                    .append(t.studentLayer()).append(" -> ").append(t.teacherLayer()).append(']');
        }
        for (AuxiliaryClassifier a : auxiliary) {
            s.append(" + [").append(a.name()).append(": ").append(a.objective()).append(" on ").append(a.studentLayer())
                    .append(']');
        }
        return s.toString();
    }

    /** Builds the training graph for {@code student} (probing shapes on the first batch of {@code train}). */
    public FeatureTraining prepare(Student student, DataSetIterator train) {
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(train, "training iterator must not be null");
        if (!train.resetSupported()) {
            throw new IllegalArgumentException("feature distillation needs a resettable training iterator (the first "
                    + "batch fixes the tapped shapes)");
        }
        train.reset();
        if (!train.hasNext()) {
            throw new IllegalArgumentException("training iterator is empty: no batch to distil on");
        }
        DataSet first = train.next();
        int classes = student.numClasses();
        if (first.getLabels() == null || first.getLabels().size(1) != classes) {
            throw new IllegalArgumentException("labels must be one-hot with " + classes + " columns (the student's output "
                    + "layer has nOut=" + classes + ")");
        }
        train.reset();
        Nd4j.getRandom().setSeed(seed);
        Teacher t = selfTeacher ? SelfTeacher.of(student) : teacher;
        DistillationLossFunction loss = DistillationLossFunction.of(objective,
                TeacherTargetIterator.layoutFor(t, classes), t.blockWeights());
        FeatureTraining training = FeatureTraining.build(student, loss, taps, auxiliary, t, first, seed);
        if (t instanceof SelfTeacher self) {
            self.follow(training.graph());
        }
        return training;
    }

    /**
     * Distils {@code student} over {@code train} for the configured epochs.
     *
     * @throws NonFiniteLossException when a term, the score or the parameters become non-finite
     */
    public DistillationResult distill(Student student, DataSetIterator train) {
        FeatureTraining training = prepare(student, train);
        ComputationGraph g = training.graph();
        Teacher t = training.teacher();
        TeacherTargetIterator logits = new TeacherTargetIterator(train, t,
                TeacherTargetIterator.layoutFor(t, student.numClasses()));
        FeatureTargetIterator data = training.iterator(logits);
        Terms terms = new Terms(training, epochs, progress, printEvery);
        List<TrainingListener> all = new ArrayList<>(listeners);
        all.add(terms);
        g.setListeners(all);
        List<EpochStats> stats = new ArrayList<>();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            data.reset();
            logits.setEpoch(epoch);
            terms.start(epoch);
            long teacherBefore = logits.teacherNanos() + data.activationNanos();
            long examplesBefore = logits.examples();
            long start = System.nanoTime();
            g.fit(data);
            long fit = System.nanoTime() - start;
            long teacherNanos = logits.teacherNanos() + data.activationNanos() - teacherBefore;
            double sum = g.params().sumNumber().doubleValue();
            if (!Double.isFinite(sum)) {
                throw new NonFiniteLossException("student parameters became non-finite during epoch " + epoch
                        + "; stopping: the student is not saved");
            }
            stats.add(new EpochStats(epoch, terms.iterations, logits.examples() - examplesBefore, terms.means(),
                    teacherNanos / 1e9, (fit - teacherNanos) / 1e9));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("epochs", epochs);
        settings.put("batchSize", train.batch());
        settings.put("objective", describe());
        taps.forEach(tap -> settings.put("tap." + tap.name(), tap.toString()));
        auxiliary.forEach(a -> settings.put("auxiliary." + a.name(), a.toString()));
        DistillationReport report = new DistillationReport(t.describe(), student.describe(), describe(), settings,
                seed, dataDescription, stats);
        return new DistillationResult(training.exportPlain(), report);
    }

    /** Reads the objective's terms and each tap's value after every iteration; stops on a non-finite one. */
    private static final class Terms extends BaseTrainingListener {
        private final FeatureTraining training;
        private final int epochs;
        private final PrintStream progress;
        private final int printEvery;
        private final Map<String, Double> sums = new LinkedHashMap<>();
        private long iterations;
        private int epoch;

        Terms(FeatureTraining training, int epochs, PrintStream progress, int printEvery) {
            this.training = training;
            this.epochs = epochs;
            this.progress = progress;
            this.printEvery = printEvery;
        }

        void start(int e) {
            epoch = e;
            iterations = 0;
            sums.clear();
        }

        Map<String, Double> means() {
            Map<String, Double> m = new LinkedHashMap<>();
            sums.forEach((k, v) -> m.put(k, iterations == 0 ? 0.0 : v / iterations));
            return m;
        }

        @Override
        public void iterationDone(Model model, int iteration, int ignored) {
            iterations++;
            Map<String, Double> now = new LinkedHashMap<>();
            org.deeplearning4j.nn.conf.layers.Layer out = ((ComputationGraph) model).getOutputLayer(0).conf().getLayer();
            if (out instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer o
                    && o.getLossFn() instanceof DistillationLossFunction d) {
                now.putAll(d.lastTerms());
            }
            for (FeatureLossFunction h : training.heads()) {
                now.put(h.term(), h.lastValue());
            }
            for (int k = 0; k < training.auxiliary().size(); k++) {
                DistillationLossFunction head = training.auxiliaryHeads().get(k);
                String name = training.auxiliary().get(k).name();
                Map<String, Double> last = head.lastTerms();
                double total = 0;
                for (Objective.Term term : head.objective().terms()) {
                    total += term.weight() * last.getOrDefault(term.name(), Double.NaN);
                }
                now.put(name, total);
                last.forEach((key, v) -> now.put(name + "." + key, v));
            }
            now.put("total", model.score());
            for (Map.Entry<String, Double> e : now.entrySet()) {
                if (!Double.isFinite(e.getValue())) {
                    throw new NonFiniteLossException("non-finite " + e.getKey() + " = " + e.getValue() + " at iteration "
                            + iterations + " of epoch " + epoch + "; stopping: the student is not saved");
                }
                sums.merge(e.getKey(), e.getValue(), Double::sum);
            }
            if (progress != null && printEvery > 0 && iterations % printEvery == 0) {
                StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d iter %d |", epoch, epochs,
                        iterations));
                now.forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %.4f", k, v)));
                progress.println(b);
            }
        }
    }

    /** Builder of a {@link FeatureDistiller}. */
    public static final class Builder {
        private Teacher teacher;
        private boolean selfTeacher;
        private Objective objective;
        private final List<Tap> taps = new ArrayList<>();
        private final List<AuxiliaryClassifier> auxiliary = new ArrayList<>();
        private int epochs = 1;
        private long seed = 42;
        private String dataDescription = "unspecified";
        private PrintStream progress;
        private int printEvery = 50;
        private final List<TrainingListener> listeners = new ArrayList<>();

        private Builder() {
        }

        public Builder teacher(Teacher teacher) {
            this.teacher = teacher;
            return this;
        }

        /**
         * Self-distillation: the teacher is the student being distilled ({@link SelfTeacher}, built for each
         * run from its student): its current main-output logits are the targets' teacher block and its
         * current activations the taps' teacher activations (teacher layers are student vertex names).
         */
        public Builder selfTeacher() {
            this.selfTeacher = true;
            return this;
        }

        /** Adds an auxiliary classifier head on an intermediate student layer (deep supervision). */
        public Builder auxiliaryClassifier(AuxiliaryClassifier classifier) {
            this.auxiliary.add(Objects.requireNonNull(classifier, "auxiliary classifier"));
            return this;
        }

        /** The logit objective, e.g. {@code 0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)}. */
        public Builder objective(String formula) {
            this.objective = Objective.parse(formula);
            return this;
        }

        public Builder objective(Objective objective) {
            this.objective = objective;
            return this;
        }

        /** Adds a feature term. */
        public Builder tap(Tap tap) {
            this.taps.add(Objects.requireNonNull(tap, "tap"));
            return this;
        }

        /** Adds one tap per mapped pair, all with the same loss, weight and adapter, named {@code Loss@student}. */
        public Builder taps(List<LayerMapping.Pair> pairs, double weight, String loss, Adapter adapter) {
            for (LayerMapping.Pair p : pairs) {
                tap(Tap.of(p.studentLayer(), p.teacherLayer(), weight, loss).withAdapter(adapter));
            }
            return this;
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder data(String description) {
            this.dataDescription = Objects.requireNonNull(description, "data description");
            return this;
        }

        public Builder progress(PrintStream out, int everyIterations) {
            this.progress = out;
            this.printEvery = everyIterations;
            return this;
        }

        public Builder listener(TrainingListener listener) {
            this.listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public FeatureDistiller build() {
            return new FeatureDistiller(this);
        }
    }
}
