package io.kd4j.core.data;

import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A resettable iterator over features and labels held in memory, in fixed order or reshuffled at
 * every reset with a seeded generator (the same seed gives the same sequence of epochs).
 */
public final class InMemoryDataSetIterator implements DataSetIterator {
    private static final long serialVersionUID = 1L;

    private final INDArray features;
    private final INDArray labels;
    private final int batch;
    private final Random shuffle;
    private final long seed;
    private int[] order;
    private int cursor;
    private DataSetPreProcessor preProcessor;

    /**
     * @param features {@code [n, ...]}
     * @param labels {@code [n, classes]} one-hot
     * @param batch batch size, &gt;= 1
     * @param shuffleSeed {@code null} for fixed order, else the seed of the per-epoch shuffle
     */
    public InMemoryDataSetIterator(INDArray features, INDArray labels, int batch, Long shuffleSeed) {
        this.features = Objects.requireNonNull(features, "features must not be null");
        this.labels = Objects.requireNonNull(labels, "labels must not be null");
        if (features.size(0) != labels.size(0)) {
            throw new IllegalArgumentException("features and labels must have the same number of examples, got "
                    + features.size(0) + " and " + labels.size(0));
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        this.batch = batch;
        this.seed = shuffleSeed == null ? 0 : shuffleSeed;
        this.shuffle = shuffleSeed == null ? null : new Random(shuffleSeed);
        this.order = identity((int) features.size(0));
        if (shuffle != null) {
            shuffleOrder();
        }
    }

    /** An iterator over a list of single- or multi-example data sets, merged, in fixed order. */
    public static InMemoryDataSetIterator of(List<DataSet> examples, int batch) {
        if (examples.isEmpty()) {
            return new InMemoryDataSetIterator(Nd4j.create(0, 1), Nd4j.create(0, 1), batch, null);
        }
        DataSet all = DataSet.merge(examples);
        return new InMemoryDataSetIterator(all.getFeatures(), all.getLabels(), batch, null);
    }

    private static int[] identity(int n) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) {
            o[i] = i;
        }
        return o;
    }

    private void shuffleOrder() {
        for (int i = order.length - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** Number of examples. */
    public int size() {
        return order.length;
    }

    @Override
    public DataSet next(int num) {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException("no more batches; call reset()");
        }
        int end = Math.min(order.length, cursor + num);
        DataSet ds;
        if (shuffle == null) {
            ds = new DataSet(slice(features, cursor, end), slice(labels, cursor, end));
        } else {
            long[] idx = new long[end - cursor];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = order[cursor + i];
            }
            ds = new DataSet(rows(features, toInt(idx)), rows(labels, toInt(idx)));
        }
        cursor = end;
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    private static int[] toInt(long[] idx) {
        int[] r = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            r[i] = (int) idx[i];
        }
        return r;
    }

    /** Examples {@code idx} (dimension 0) of an array of any rank, in that order. */
    private static INDArray rows(INDArray a, int[] idx) {
        if (a.rank() <= 2) {
            return a.getRows(idx);
        }
        long[] shape = a.shape().clone();
        INDArray flat = a.reshape('c', shape[0], a.length() / shape[0]).getRows(idx);
        shape[0] = idx.length;
        return flat.reshape('c', shape);
    }

    private static INDArray slice(INDArray a, int from, int to) {
        org.nd4j.linalg.indexing.INDArrayIndex[] ix = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        ix[0] = NDArrayIndex.interval(from, to);
        for (int d = 1; d < a.rank(); d++) {
            ix[d] = NDArrayIndex.all();
        }
        return a.get(ix).dup();
    }

    @Override
    public DataSet next() {
        return next(batch);
    }

    @Override
    public boolean hasNext() {
        return cursor < order.length;
    }

    @Override
    public int inputColumns() {
        return (int) (features.length() / Math.max(1, features.size(0)));
    }

    @Override
    public int totalOutcomes() {
        return (int) labels.size(1);
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        cursor = 0;
        if (shuffle != null) {
            shuffleOrder();
        }
    }

    /** Rewinds to the state just after construction (the same epoch sequence again). */
    public void restart() {
        cursor = 0;
        if (shuffle != null) {
            shuffle.setSeed(seed);
            order = identity(order.length);
            shuffleOrder();
        }
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return null;
    }
}
