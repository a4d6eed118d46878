package io.kd4j.examples.scale;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.feature.FeatureDistiller;
import io.kd4j.core.feature.FeatureTargetIterator;
import io.kd4j.core.feature.FeatureTraining;
import io.kd4j.core.feature.Tap;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Distillation through DL4J's {@link ParallelWrapper}: several workers on one machine, each training
 * a replica of the student that DL4J builds from its JSON configuration (so the
 * {@link DistillationLossFunction} travels inside it), with parameter averaging (or shared
 * gradients). The objective and the losses are exactly those of {@code Distiller}; only the trainer
 * differs.
 *
 * <p>All epochs run in one {@code ParallelWrapper.fit} ({@link EpochChain}): ParallelWrapper drops the
 * root model's updater at the end of every {@code fit}, so one fit per epoch would restart Adam's state
 * at every epoch. Workers start from the same parameters ({@link ReplicaBarrier} closes a start-up race
 * of ParallelWrapper), so with plain SGD and averaging after every step, {@code w} workers on batches of
 * {@code b} give the same student as one worker on batches of {@code w·b} (tested).
 *
 * <p>The teacher runs in kd-core's {@link TeacherTargetIterator} on the thread that feeds the
 * workers, never inside a worker's fit: the iterator is not asynchronous, so ParallelWrapper does not
 * move it onto a prefetch thread, and the workers receive packed batches only.
 *
 * <p>Feature distillation ({@link #distillFeatures}) trains kd-core's feature training graph (the
 * student with adapter and loss heads, {@link FeatureDistiller#prepare}) the same way, on the
 * MultiDataSets of its {@link FeatureTargetIterator}; the replicas carry the heads' feature losses in
 * their JSON configuration. Averaging two workers' steps equals the step on the union of their batches
 * only when every term is a mean of per-example terms (FitNets, AT, the logit losses); batch-relational
 * terms (SP, RKD, PKT, CC, CRD) compare examples within a batch, so two half batches are a different
 * objective than one whole batch.
 *
 * @param workers number of workers, &gt;= 2 (ParallelWrapper's minimum)
 * @param averagingFrequency iterations between parameter averaging, &gt;= 1 (AVERAGING mode)
 * @param mode ParallelWrapper's training mode (AVERAGING or SHARED_GRADIENTS)
 * @param epochs passes over the data, &gt;= 1
 * @param seed ND4J's random seed for the run
 */
public record ParallelWrapperDistiller(int workers, int averagingFrequency, ParallelWrapper.TrainingMode mode,
                                       int epochs, long seed) {
    public ParallelWrapperDistiller {
        if (workers < 2) {
            throw new IllegalArgumentException("workers must be >= 2 (ParallelWrapper's minimum), got " + workers);
        }
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("averagingFrequency must be >= 1, got " + averagingFrequency);
        }
        Objects.requireNonNull(mode, "mode must not be null");
        if (mode == ParallelWrapper.TrainingMode.CUSTOM) {
            throw new IllegalArgumentException("mode must be AVERAGING or SHARED_GRADIENTS, got CUSTOM");
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
    }

    /** The trained plain student (original output layer) and the wall time of each epoch. */
    public record Result(Model student, List<Double> epochSeconds) {
    }

    /**
     * Feature distillation: distils {@code student} from {@code teacher} with the logit {@code objective}
     * plus one feature term per tap, over {@code train} (resettable). The training graph is built by
     * {@link FeatureDistiller#prepare} with this record's seed (adapters included), exactly as
     * {@code FeatureDistiller} builds it; the result is the exported plain student (no adapter, no head).
     */
    public Result distillFeatures(Student student, Teacher teacher, Objective objective, List<Tap> taps,
                                  DataSetIterator train) {
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(objective, "objective must not be null");
        Objects.requireNonNull(taps, "taps must not be null");
        Objects.requireNonNull(train, "training iterator must not be null");
        FeatureDistiller.Builder b = FeatureDistiller.builder().teacher(teacher).objective(objective).seed(seed);
        taps.forEach(b::tap);
        FeatureTraining training = b.build().prepare(student, train);
        TeacherTargetIterator logits = new TeacherTargetIterator(train, teacher,
                TargetLayout.dense(student.numClasses()));
        FeatureTargetIterator data = training.iterator(logits);
        ComputationGraph graph = training.graph();
        ParallelWrapper wrapper = wrapper(graph);
        ReplicaBarrier barrier = new ReplicaBarrier();
        wrapper.setListeners(barrier);
        List<Long> starts = new ArrayList<>();
        EpochChain all = EpochChain.of(data, epochs, epoch -> {
            logits.setEpoch(epoch);
            starts.add(System.nanoTime());
        });
        try {
            all.start();
            barrier.arm(workers);
            wrapper.fit(barrier.gate(data, all));
            starts.add(System.nanoTime());
            requireFinite(graph);
        } finally {
            wrapper.shutdown();
        }
        return new Result(training.exportPlain(), epochSeconds(starts));
    }

    /** ParallelWrapper with this record's settings; no prefetch thread, so the teacher runs on the feeding thread. */
    private ParallelWrapper wrapper(Model model) {
        return new ParallelWrapper.Builder<>(model)
                .workers(workers)
                .averagingFrequency(averagingFrequency)
                .trainingMode(mode)
                .prefetchBuffer(0)
                .build();
    }

    private static void requireFinite(Model model) {
        double sum = model.params().sumNumber().doubleValue();
        if (!Double.isFinite(sum)) {
            throw new IllegalStateException("student parameters became non-finite during training");
        }
    }

    /**
     * Seconds between consecutive epoch starts (and the end). An epoch starts when the feeding thread
     * reads its first batch; the workers may still be training on the previous epoch's last batches.
     */
    private static List<Double> epochSeconds(List<Long> starts) {
        List<Double> seconds = new ArrayList<>();
        for (int i = 1; i < starts.size(); i++) {
            seconds.add((starts.get(i) - starts.get(i - 1)) / 1e9);
        }
        return List.copyOf(seconds);
    }

    /**
     * Distils {@code student} from {@code teacher} over {@code train} (resettable when epochs &gt; 1).
     */
    public Result distill(Student student, Teacher teacher, Objective objective, DataSetIterator train) {
        Objects.requireNonNull(student, "student must not be null");
        Objects.requireNonNull(objective, "objective must not be null");
        Objects.requireNonNull(train, "training iterator must not be null");
        if (epochs > 1 && !train.resetSupported()) {
            throw new IllegalArgumentException("training iterator must support reset() for epochs > 1");
        }
        Nd4j.getRandom().setSeed(seed);
        TargetLayout layout = TargetLayout.dense(student.numClasses());
        TrainingModel model = student.trainingModel(DistillationLossFunction.of(objective, layout));
        TeacherTargetIterator data = new TeacherTargetIterator(train, teacher, layout);
        ParallelWrapper wrapper = wrapper(model.network());
        ReplicaBarrier barrier = new ReplicaBarrier();
        wrapper.setListeners(barrier);
        List<Long> starts = new ArrayList<>();
        EpochChain all = EpochChain.of(data, epochs, epoch -> {
            data.setEpoch(epoch);
            starts.add(System.nanoTime());
        });
        try {
            all.start();
            barrier.arm(workers);
            wrapper.fit(barrier.gate(data, all));
            starts.add(System.nanoTime());
            requireFinite(model.network());
        } finally {
            wrapper.shutdown();
        }
        return new Result(model.exportPlain(), epochSeconds(starts));
    }
}
