package io.kd4j.examples.bench;

import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batches generated on the fly (nothing held in memory): example {@code i} has Gaussian features
 * seeded by {@code i} and the one-hot label {@code i mod classes}; plus a fixed random linear teacher.
 * Used where the data set itself must not weigh on the memory being measured.
 */
final class SyntheticData implements DataSetIterator {
    private static final long serialVersionUID = 1L;
    private final long examples;
    private final int batch;
    private final int features;
    private final int classes;
    private long cursor;

    SyntheticData(long examples, int batch, int features, int classes) {
        this.examples = examples;
        this.batch = batch;
        this.features = features;
        this.classes = classes;
    }

    static Teacher linearTeacher(int features, int classes) {
        Nd4j.getRandom().setSeed(99);
        INDArray w = Nd4j.randn(DataType.FLOAT, features, classes);
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch b) {
                return b.features().castTo(DataType.FLOAT).mmul(w);
            }

            @Override
            public String describe() {
                return "linear teacher " + features + "->" + classes;
            }

            @Override
            public String fingerprint() {
                return "linear-" + features + "-" + classes;
            }
        };
    }

    @Override
    public DataSet next(int num) {
        int n = (int) Math.min(num, examples - cursor);
        float[] x = new float[n * features];
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            Random r = new Random(cursor + i);
            for (int j = 0; j < features; j++) {
                x[i * features + j] = (float) r.nextGaussian();
            }
            y.putScalar(i, (int) ((cursor + i) % classes), 1.0);
        }
        cursor += n;
        return new DataSet(Nd4j.create(x, new long[] {n, features}, 'c'), y);
    }

    @Override
    public DataSet next() {
        return next(batch);
    }

    @Override
    public boolean hasNext() {
        return cursor < examples;
    }

    @Override
    public int inputColumns() {
        return features;
    }

    @Override
    public int totalOutcomes() {
        return classes;
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
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        throw new UnsupportedOperationException("no pre-processor");
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return null;
    }

    @Override
    public List<String> getLabels() {
        return null;
    }
}
