package io.kd4j.core.train;

import io.kd4j.core.checkpoint.NetworkState;
import io.kd4j.core.data.TeacherTargetIterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iterator the student's {@code fit} sees. Around the {@link TeacherTargetIterator} it
 * <ul>
 *   <li>tracks the data position (batches consumed in the epoch, trained or skipped) and skips
 *       already-consumed batches on resume by pulling them from the user's iterator, without the teacher;</li>
 *   <li>refuses (or, by policy, skips) batches with non-finite features or teacher outputs, looking one
 *       batch ahead in {@link #hasNext()} so a skipped batch is never handed to {@code fit};</li>
 *   <li>re-seeds ND4J's random generator from (seed, epoch, batch index) before each batch is trained,
 *       so dropout masks depend only on the data position: a resumed run draws the same masks;</li>
 *   <li>calls the checkpoint hook between two steps (in {@code hasNext()}, before the next batch is read).</li>
 * </ul>
 * It reports {@code resetSupported() == false}: DL4J must not reset it, the distiller resets the data itself.
 */
final class TrainingIterator implements DataSetIterator {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainingIterator.class);

    /** Called between two optimisation steps when more data follows. */
    interface Hook {
        void betweenSteps();
    }

    private final transient DataSetIterator source;
    private final transient TeacherTargetIterator data;
    private final NonFinitePolicy policy;
    private final long seed;
    private final int classes;
    private final transient Hook hook;
    private int epoch = 1;
    private long batchesDone;
    private long examplesDone;
    private long examplesServed;
    private long steps;
    private long skipped;
    private transient DataSet pending;
    private long pendingIndex;
    private long pendingFirst;
    private long batchIndex = -1;
    private long batchFirst;
    private long batchSize;

    TrainingIterator(DataSetIterator source, TeacherTargetIterator data, NonFinitePolicy policy, long seed, int classes,
                     Hook hook) {
        this.source = source;
        this.data = data;
        this.policy = policy;
        this.seed = seed;
        this.classes = classes;
        this.hook = hook;
    }

    /**
     * Starts an epoch (after the caller reset the data), skipping {@code consumed} batches a checkpoint
     * had already consumed, of which {@code served} examples were trained on.
     */
    void startEpoch(int epoch, long consumed, long served) {
        this.epoch = epoch;
        batchesDone = 0;
        examplesDone = 0;
        examplesServed = served;
        pending = null;
        for (long i = 0; i < consumed; i++) {
            if (!source.hasNext()) {
                throw new IllegalStateException("the training iterator has only " + i + " batches in epoch " + epoch
                        + " but the checkpoint had consumed " + consumed + ": resuming needs an iterator that replays "
                        + "the same batches after the same resets");
            }
            examplesDone += source.next().getFeatures().size(0);
            batchesDone++;
        }
    }

    /** Restores the run-wide counters from a checkpoint. */
    void restoreCounters(long steps, long skipped) {
        this.steps = steps;
        this.skipped = skipped;
    }

    long batchesDone() {
        return batchesDone;
    }

    long steps() {
        return steps;
    }

    /** Examples handed to {@code fit} in this epoch (skipped batches excluded). */
    long examplesServedThisEpoch() {
        return examplesServed;
    }

    long skipped() {
        return skipped;
    }

    void countSkip() {
        skipped++;
    }

    int epoch() {
        return epoch;
    }

    /** Where the batch being trained sits, for messages. */
    String describeBatch() {
        return "batch " + (batchIndex + 1) + " of epoch " + epoch + ", examples " + batchFirst + ".."
                + (batchFirst + batchSize - 1) + " of the epoch's data order";
    }

    @Override
    public boolean hasNext() {
        if (pending != null) {
            return true;
        }
        if (data.hasNext()) {
            hook.betweenSteps();
        }
        while (data.hasNext()) {
            DataSet d = data.next();
            long index = batchesDone;
            long first = examplesDone;
            batchesDone++;
            examplesDone += d.getFeatures().size(0);
            String bad = nonFinite(d);
            if (bad == null) {
                pending = d;
                pendingIndex = index;
                pendingFirst = first;
                return true;
            }
            String msg = "non-finite " + bad + " in batch " + (index + 1) + " of epoch " + epoch + " (examples " + first
                    + ".." + (examplesDone - 1) + " of the epoch's data order), before iteration " + (steps + 1);
            if (policy == NonFinitePolicy.STOP) {
                throw new NonFiniteLossException(msg + "; stopping: the student is not saved");
            }
            skipped++;
            LOG.warn("{}; skipping the batch (policy SKIP_BATCH)", msg);
        }
        return false;
    }

    private String nonFinite(DataSet d) {
        if (!NetworkState.isFinite(d.getFeatures())) {
            return "features";
        }
        // the whole teacher block, whatever its layout: dense, top-k (2k columns) or M stacked teachers
        return NetworkState.isFiniteColumns(d.getLabels(), classes, d.getLabels().size(1) - 1) ? null : "teacher outputs";
    }

    @Override
    public DataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more batches in epoch " + epoch);
        }
        DataSet d = pending;
        pending = null;
        batchIndex = pendingIndex;
        batchFirst = pendingFirst;
        batchSize = d.getFeatures().size(0);
        examplesServed += batchSize;
        steps++;
        Nd4j.getRandom().setSeed(batchSeed(seed, epoch, batchIndex));
        return d;
    }

    /** A seed that depends only on the run's seed and the data position (SplitMix64 finaliser). */
    static long batchSeed(long seed, int epoch, long batch) {
        long z = seed + 0x9E3779B97F4A7C15L * (((long) epoch << 32) + batch + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("the distiller's iterator serves the data's own batches; use next()");
    }

    @Override
    public int inputColumns() {
        return data.inputColumns();
    }

    @Override
    public int totalOutcomes() {
        return data.totalOutcomes();
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
        throw new UnsupportedOperationException("the distiller resets the training data itself");
    }

    @Override
    public int batch() {
        return data.batch();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        data.setPreProcessor(preProcessor);
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return data.getPreProcessor();
    }

    @Override
    public List<String> getLabels() {
        return data.getLabels();
    }
}
