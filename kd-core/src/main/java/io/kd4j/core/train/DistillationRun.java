package io.kd4j.core.train;

import io.kd4j.core.checkpoint.CheckpointState;
import io.kd4j.core.checkpoint.CheckpointStore;
import io.kd4j.core.checkpoint.Checkpointing;
import io.kd4j.core.checkpoint.NetworkState;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.TrainingModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One distillation run: the epoch loop around DL4J's {@code fit}, with the non-finite guard and,
 * when configured, checkpoints and resume. Package-private; {@link Distiller} is the entry point.
 *
 * <p>Resume replays the data exactly: the same sequence of {@code reset()} calls on the user's
 * iterator as an uninterrupted run (one per epoch, completed epochs included), then the consumed
 * batches of the interrupted epoch are pulled and dropped without the teacher. The iterator must
 * therefore yield the same batches after the same resets in a fresh process (true for
 * {@code InMemoryDataSetIterator}, fixed order or seeded shuffle).
 */
final class DistillationRun {
    private static final Logger LOG = LoggerFactory.getLogger(DistillationRun.class);

    private final Distiller.Settings settings;
    private final TrainingModel model;
    private final String runFingerprint;
    private final CheckpointStore store;
    private final List<EpochStats> stats = new ArrayList<>();
    private TrainingIterator iterator;
    private TermListener terms;
    private int epochsCompleted;
    private long lastCheckpointSteps;

    DistillationRun(Distiller.Settings settings, TrainingModel model, String runFingerprint) {
        this.settings = settings;
        this.model = model;
        this.runFingerprint = runFingerprint;
        Checkpointing c = settings.checkpointing();
        try {
            this.store = c == null ? null : new CheckpointStore(c.directory());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open checkpoint directory " + c.directory() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Trains the remaining epochs (all of them without a checkpoint) and returns every epoch's
     * statistics; a finished run's checkpoint returns its statistics without training.
     */
    List<EpochStats> run(DataSetIterator train, TeacherTargetIterator data, int classes) {
        CheckpointState resumed = restore();
        if (resumed != null && resumed.finished()) {
            LOG.info("checkpoint in {} is of a finished run: nothing to train", settings.checkpointing().directory());
            requireFiniteParameters();
            return List.copyOf(stats);
        }
        iterator = new TrainingIterator(train, data, settings.nonFinitePolicy(), settings.seed(), classes,
                this::betweenSteps);
        NonFiniteGuard guard = new NonFiniteGuard(settings.nonFinitePolicy(), iterator);
        terms = new TermListener(iterator, guard, settings.progress(), settings.printEvery(), settings.epochs());
        List<TrainingListener> all = new ArrayList<>();
        all.add(guard);
        all.addAll(settings.listeners());
        all.add(terms);
        model.addListeners(all.toArray(new TrainingListener[0]));
        if (resumed != null) {
            iterator.restoreCounters(resumed.steps(), resumed.skippedBatches());
            lastCheckpointSteps = resumed.steps();
        }
        for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
            if (train.resetSupported()) {
                data.reset(); // also for completed epochs: replays a shuffling iterator's sequence
            }
            if (epoch <= epochsCompleted) {
                continue;
            }
            boolean resumingThisEpoch = resumed != null && epoch == resumed.epochsCompleted() + 1;
            data.setEpoch(epoch);
            terms.startEpoch(epoch);
            if (resumingThisEpoch) {
                iterator.startEpoch(epoch, resumed.batchesDone(),
                        Long.parseLong(resumed.progress().getOrDefault("current.examples", "0")));
                terms.restore(Long.parseLong(resumed.progress().getOrDefault("current.iterations", "0")),
                        ProgressCodec.sums(resumed.progress(), "current.term."));
            } else {
                iterator.startEpoch(epoch, 0, 0);
            }
            long teacherBefore = data.teacherNanos();
            long start = System.nanoTime();
            model.fit(iterator);
            long fitNanos = System.nanoTime() - start;
            long teacherNanos = data.teacherNanos() - teacherBefore;
            requireFiniteParameters();
            EpochStats e = new EpochStats(epoch, terms.iterations(), iterator.examplesServedThisEpoch(), terms.means(),
                    teacherNanos / 1e9, (fitNanos - teacherNanos) / 1e9);
            stats.add(e);
            epochsCompleted = epoch;
            LOG.info("epoch {}/{}: {}", epoch, settings.epochs(), e.meanTerms());
            checkpoint(epoch == settings.epochs());
        }
        return List.copyOf(stats);
    }

    long skippedBatches() {
        return iterator == null ? 0 : iterator.skipped();
    }

    private CheckpointState restore() {
        if (store == null) {
            return null;
        }
        CheckpointStore.Loaded loaded;
        try {
            loaded = store.read().orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (loaded == null) {
            return null;
        }
        CheckpointState s = loaded.state();
        if (!s.runFingerprint().equals(runFingerprint)) {
            throw new IllegalArgumentException("checkpoint " + store.file() + " belongs to another run (fingerprint "
                    + s.runFingerprint() + ", this run " + runFingerprint + "): teacher, student, objective, seed, epochs "
                    + "or batch size differ; use another checkpoint directory or delete it");
        }
        NetworkState.copy(loaded.network(), model.network());
        stats.addAll(ProgressCodec.epochs(s.progress(), s.epochsCompleted()));
        epochsCompleted = s.epochsCompleted();
        LOG.info("resuming from {}: {} epochs completed, {} batches into epoch {}, {} steps", store.file(),
                s.epochsCompleted(), s.batchesDone(), s.epochsCompleted() + 1, s.steps());
        return s;
    }

    /** Mid-epoch checkpoint, between two steps, when the interval has passed. */
    private void betweenSteps() {
        if (store != null && iterator.steps() - lastCheckpointSteps >= settings.checkpointing().everyIterations()) {
            checkpoint(false);
        }
    }

    private void checkpoint(boolean finished) {
        if (store == null) {
            return;
        }
        requireFiniteParameters();
        boolean midEpoch = !finished && epochsCompleted < iterator.epoch();
        Map<String, String> progress = new LinkedHashMap<>(ProgressCodec.encode(stats));
        long batchesDone = 0;
        if (midEpoch) {
            batchesDone = iterator.batchesDone();
            progress.put("current.iterations", Long.toString(terms.iterations()));
            progress.put("current.examples", Long.toString(iterator.examplesServedThisEpoch()));
            terms.sums().forEach((k, v) -> progress.put("current.term." + k, Double.toString(v)));
        }
        CheckpointState state = new CheckpointState(runFingerprint, epochsCompleted, batchesDone, iterator.steps(),
                iterator.skipped(), finished, progress);
        try {
            store.write(model.network(), state);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write checkpoint " + store.file() + ": " + e.getMessage()
                    + "; stopping so that no work goes unsaved", e);
        }
        lastCheckpointSteps = iterator.steps();
    }

    private void requireFiniteParameters() {
        if (!NetworkState.isFinite(model.params())) {
            throw new NonFiniteLossException("student parameters are non-finite after epoch " + epochsCompleted
                    + "; stopping: the student is not saved");
        }
    }
}
