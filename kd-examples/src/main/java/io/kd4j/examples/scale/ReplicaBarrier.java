package io.kd4j.examples.scale;

import java.util.Collection;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.core.storage.listener.RoutingIterationListener;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * Closes a race in DL4J 1.0.0-M2.1's ParallelWrapper: worker 0 trains the root model itself while
 * each other worker, on its own thread, copies the root's parameters when it starts. When worker 0
 * receives its first batch before a sibling has copied them, that sibling starts from parameters that
 * already took a step (observed here: of two identical runs without this barrier, one differed from the
 * exact result in the third significant digit; with it, repeated runs are identical). Every worker
 * clones ParallelWrapper's listeners <em>after</em> copying the parameters; this listener counts those
 * clones, and {@link #gate} holds the first batch of each {@code fit} until all workers have. The gate
 * also runs all epochs of an {@link EpochChain} as the one {@code fit}'s data.
 */
final class ReplicaBarrier extends BaseTrainingListener implements RoutingIterationListener {
    private static final long serialVersionUID = 1L;
    private static final long TIMEOUT_SECONDS = 120;

    private transient volatile CountDownLatch started = new CountDownLatch(0);
    /** Whether the first batch since {@link #arm} has passed (read and set on the feeding thread). */
    private transient boolean opened;
    private String workerId;
    private String sessionId;

    /** Expects {@code workers} workers to start (call before each {@code ParallelWrapper.fit}). */
    void arm(int workers) {
        started = new CountDownLatch(workers);
        opened = false;
    }

    /** Before a gate hands out a batch: one must remain, and the first one waits for the workers. */
    private void beforeBatch(EpochChain epochs) {
        if (!epochs.hasNext()) {
            throw new NoSuchElementException("all " + epochs.epochs() + " epochs were read");
        }
        if (!opened) {
            awaitWorkers();
            opened = true;
        }
    }

    private void awaitWorkers() {
        try {
            if (!started.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("ParallelWrapper workers did not start within " + TIMEOUT_SECONDS
                        + " s (" + started.getCount() + " still copying the model)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for ParallelWrapper workers", e);
        }
    }

    @Override
    public RoutingIterationListener clone() {
        started.countDown(); // called by each worker thread once its replica holds the root's parameters
        return this;
    }

    @Override
    public void setStorageRouter(StatsStorageRouter router) {
        // nothing is reported
    }

    @Override
    public StatsStorageRouter getStorageRouter() {
        return NoRouter.INSTANCE;
    }

    @Override
    public void setWorkerID(String workerId) {
        this.workerId = workerId;
    }

    @Override
    public String getWorkerID() {
        return workerId;
    }

    @Override
    public void setSessionID(String sessionId) {
        this.sessionId = sessionId;
    }

    @Override
    public String getSessionID() {
        return sessionId;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        // not a reporting listener
    }

    /**
     * {@code data} over all epochs of {@code epochs} (built on {@code data}), whose first batch waits until
     * every worker has copied the root's parameters.
     */
    DataSetIterator gate(DataSetIterator data, EpochChain epochs) {
        return new Gate(data, epochs, this);
    }

    /** The same for feature distillation's MultiDataSets. */
    MultiDataSetIterator gate(MultiDataSetIterator data, EpochChain epochs) {
        return new MultiGate(data, epochs, this);
    }

    private static final class MultiGate implements MultiDataSetIterator {
        private static final long serialVersionUID = 1L;
        private final MultiDataSetIterator inner;
        private final transient EpochChain epochs;
        private final transient ReplicaBarrier barrier;

        MultiGate(MultiDataSetIterator inner, EpochChain epochs, ReplicaBarrier barrier) {
            this.inner = inner;
            this.epochs = epochs;
            this.barrier = barrier;
        }

        @Override
        public MultiDataSet next(int num) {
            barrier.beforeBatch(epochs);
            return inner.next(num);
        }

        @Override
        public MultiDataSet next() {
            barrier.beforeBatch(epochs);
            return inner.next();
        }

        @Override
        public boolean hasNext() {
            return epochs.hasNext();
        }

        @Override
        public boolean resetSupported() {
            return inner.resetSupported();
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            epochs.start();
        }

        @Override
        public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
            inner.setPreProcessor(preProcessor);
        }

        @Override
        public MultiDataSetPreProcessor getPreProcessor() {
            return inner.getPreProcessor();
        }
    }

    private static final class Gate implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        private final DataSetIterator inner;
        private final transient EpochChain epochs;
        private final transient ReplicaBarrier barrier;

        Gate(DataSetIterator inner, EpochChain epochs, ReplicaBarrier barrier) {
            this.inner = inner;
            this.epochs = epochs;
            this.barrier = barrier;
        }

        @Override
        public org.nd4j.linalg.dataset.DataSet next(int num) {
            barrier.beforeBatch(epochs);
            return inner.next(num);
        }

        @Override
        public org.nd4j.linalg.dataset.DataSet next() {
            barrier.beforeBatch(epochs);
            return inner.next();
        }

        @Override
        public boolean hasNext() {
            return epochs.hasNext();
        }

        @Override
        public int inputColumns() {
            return inner.inputColumns();
        }

        @Override
        public int totalOutcomes() {
            return inner.totalOutcomes();
        }

        @Override
        public boolean resetSupported() {
            return inner.resetSupported();
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            epochs.start();
        }

        @Override
        public int batch() {
            return inner.batch();
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            inner.setPreProcessor(preProcessor);
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return inner.getPreProcessor();
        }

        @Override
        public List<String> getLabels() {
            return inner.getLabels();
        }
    }

    private enum NoRouter implements StatsStorageRouter {
        INSTANCE;

        @Override
        public void putStorageMetaData(StorageMetaData m) {
        }

        @Override
        public void putStorageMetaData(Collection<? extends StorageMetaData> m) {
        }

        @Override
        public void putStaticInfo(Persistable p) {
        }

        @Override
        public void putStaticInfo(Collection<? extends Persistable> p) {
        }

        @Override
        public void putUpdate(Persistable p) {
        }

        @Override
        public void putUpdate(Collection<? extends Persistable> p) {
        }
    }
}
