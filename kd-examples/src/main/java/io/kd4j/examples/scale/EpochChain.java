package io.kd4j.examples.scale;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.IntConsumer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * All epochs of a resettable iterator as one pass, so that a single {@code ParallelWrapper.fit} trains
 * them all. DL4J 1.0.0-M2.1's ParallelWrapper ends every {@code fit} with {@code Model.clear()} on the
 * root model, which drops its updater: fitting once per epoch restarts Adam's moment estimates at every
 * epoch. When the inner iterator runs out and epochs remain, the chain resets it and calls
 * {@code onEpoch} with the new epoch's number (1-based) before handing out its first batch;
 * {@link #start} (and {@code reset()}) go back to epoch 1 and call {@code onEpoch(1)}.
 */
final class EpochChain {
    private final int epochs;
    private final IntConsumer onEpoch;
    private final Resettable inner;
    private int epoch;

    /** The two iterator kinds' {@code hasNext}, {@code reset} and {@code resetSupported}. */
    private interface Resettable {
        boolean hasNext();

        void reset();

        boolean resetSupported();
    }

    private EpochChain(Resettable inner, int epochs, IntConsumer onEpoch) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (epochs > 1 && !inner.resetSupported()) {
            throw new IllegalArgumentException("training iterator must support reset() for epochs > 1");
        }
        this.inner = inner;
        this.epochs = epochs;
        this.onEpoch = onEpoch;
    }

    /** Back to epoch 1: resets the inner iterator (when it can be) and calls {@code onEpoch(1)}. */
    void start() {
        if (inner.resetSupported()) {
            inner.reset();
        }
        epoch = 1;
        onEpoch.accept(1);
    }

    /** The current epoch, 1-based. */
    int epoch() {
        return epoch;
    }

    private boolean hasNext() {
        while (!inner.hasNext()) {
            if (epoch >= epochs) {
                return false;
            }
            epoch++;
            inner.reset();
            onEpoch.accept(epoch);
            if (!inner.hasNext()) {
                throw new IllegalStateException("training iterator is empty after reset() (epoch " + epoch + ")");
            }
        }
        return true;
    }

    /** {@code data} for {@code epochs} epochs, as one DataSetIterator. */
    static Dense of(DataSetIterator data, int epochs, IntConsumer onEpoch) {
        return new Dense(data, epochs, onEpoch);
    }

    /** {@code data} for {@code epochs} epochs, as one MultiDataSetIterator. */
    static Multi of(MultiDataSetIterator data, int epochs, IntConsumer onEpoch) {
        return new Multi(data, epochs, onEpoch);
    }

    /** The chain over a DataSetIterator. */
    static final class Dense implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        private final DataSetIterator data;
        private final transient EpochChain chain;

        private Dense(DataSetIterator data, int epochs, IntConsumer onEpoch) {
            this.data = data;
            this.chain = new EpochChain(new Resettable() {
                public boolean hasNext() {
                    return data.hasNext();
                }

                public void reset() {
                    data.reset();
                }

                public boolean resetSupported() {
                    return data.resetSupported();
                }
            }, epochs, onEpoch);
        }

        EpochChain chain() {
            return chain;
        }

        @Override
        public boolean hasNext() {
            return chain.hasNext();
        }

        @Override
        public DataSet next() {
            if (!hasNext()) {
                throw new NoSuchElementException("all " + chain.epochs + " epochs were read");
            }
            return data.next();
        }

        @Override
        public DataSet next(int num) {
            if (!hasNext()) {
                throw new NoSuchElementException("all " + chain.epochs + " epochs were read");
            }
            return data.next(num);
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
            return data.resetSupported();
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            chain.start();
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

    /** The chain over a MultiDataSetIterator (feature distillation). */
    static final class Multi implements MultiDataSetIterator {
        private static final long serialVersionUID = 1L;
        private final MultiDataSetIterator data;
        private final transient EpochChain chain;

        private Multi(MultiDataSetIterator data, int epochs, IntConsumer onEpoch) {
            this.data = data;
            this.chain = new EpochChain(new Resettable() {
                public boolean hasNext() {
                    return data.hasNext();
                }

                public void reset() {
                    data.reset();
                }

                public boolean resetSupported() {
                    return data.resetSupported();
                }
            }, epochs, onEpoch);
        }

        EpochChain chain() {
            return chain;
        }

        @Override
        public boolean hasNext() {
            return chain.hasNext();
        }

        @Override
        public MultiDataSet next() {
            if (!hasNext()) {
                throw new NoSuchElementException("all " + chain.epochs + " epochs were read");
            }
            return data.next();
        }

        @Override
        public MultiDataSet next(int num) {
            if (!hasNext()) {
                throw new NoSuchElementException("all " + chain.epochs + " epochs were read");
            }
            return data.next(num);
        }

        @Override
        public boolean resetSupported() {
            return data.resetSupported();
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            chain.start();
        }

        @Override
        public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
            data.setPreProcessor(preProcessor);
        }

        @Override
        public MultiDataSetPreProcessor getPreProcessor() {
            return data.getPreProcessor();
        }
    }
}
