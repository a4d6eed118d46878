package io.kd4j.examples.scale;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * All epochs of a resettable iterator as one pass, so that a single {@code ParallelWrapper.fit} trains
 * them all. DL4J 1.0.0-M2.1's ParallelWrapper ends every {@code fit} with {@code Model.clear()} on the
 * root model, which drops its updater: fitting once per epoch restarts Adam's moment estimates at every
 * epoch. When the inner iterator runs out and epochs remain, the chain resets it and calls
 * {@code onEpoch} with the new epoch's number (1-based) before its first batch is read; {@link #start}
 * goes back to epoch 1 and calls {@code onEpoch(1)}. {@link ReplicaBarrier#gate} hands the chained
 * batches to ParallelWrapper.
 */
final class EpochChain {
    private final BooleanSupplier innerHasNext;
    private final Runnable innerReset;
    private final boolean resetSupported;
    private final int epochs;
    private final IntConsumer onEpoch;
    private int epoch;

    private EpochChain(BooleanSupplier innerHasNext, Runnable innerReset, boolean resetSupported, int epochs,
                       IntConsumer onEpoch) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (epochs > 1 && !resetSupported) {
            throw new IllegalArgumentException("training iterator must support reset() for epochs > 1");
        }
        this.innerHasNext = innerHasNext;
        this.innerReset = innerReset;
        this.resetSupported = resetSupported;
        this.epochs = epochs;
        this.onEpoch = onEpoch;
    }

    /** {@code data} for {@code epochs} epochs. */
    static EpochChain of(DataSetIterator data, int epochs, IntConsumer onEpoch) {
        return new EpochChain(data::hasNext, data::reset, data.resetSupported(), epochs, onEpoch);
    }

    /** {@code data} (feature distillation) for {@code epochs} epochs. */
    static EpochChain of(MultiDataSetIterator data, int epochs, IntConsumer onEpoch) {
        return new EpochChain(data::hasNext, data::reset, data.resetSupported(), epochs, onEpoch);
    }

    /** Back to epoch 1: resets the inner iterator (when it can be) and calls {@code onEpoch(1)}. */
    void start() {
        if (resetSupported) {
            innerReset.run();
        }
        epoch = 1;
        onEpoch.accept(1);
    }

    /** The current epoch, 1-based. */
    int epoch() {
        return epoch;
    }

    /** The number of epochs. */
    int epochs() {
        return epochs;
    }

    /** Whether a batch remains in this epoch or a later one (moving to the next epoch when needed). */
    boolean hasNext() {
        while (!innerHasNext.getAsBoolean()) {
            if (epoch >= epochs) {
                return false;
            }
            epoch++;
            innerReset.run();
            onEpoch.accept(epoch);
            if (!innerHasNext.getAsBoolean()) {
                throw new IllegalStateException("training iterator is empty after reset() (epoch " + epoch + ")");
            }
        }
        return true;
    }
}
