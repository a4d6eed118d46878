package io.kd4j.core.strategy;

import io.kd4j.core.student.TrainingModel;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Puts per-example {@link SampleWeights} into the labels mask of batches whose labels are already
 * packed ({@code [one-hot | teacher logits | epoch]}, after {@code TeacherTargetIterator}); the
 * student's {@code DistillationLossFunction} multiplies each example's score and gradient by it.
 * Runs on the training thread, before the student's fit sees the batch.
 */
public final class SampleWeightingIterator implements DataSetIterator {
    private static final long serialVersionUID = 1L;

    private final DataSetIterator packed;
    private final transient SampleWeights weights;
    private final TargetLayout layout;

    public SampleWeightingIterator(DataSetIterator packed, SampleWeights weights, TargetLayout layout) {
        this.packed = Objects.requireNonNull(packed, "iterator must not be null");
        this.weights = Objects.requireNonNull(weights, "sample weights must not be null");
        this.layout = Objects.requireNonNull(layout, "layout must not be null");
        if (layout.topK() != 0) {
            throw new IllegalArgumentException("sample weights read dense teacher logits; got topK=" + layout.topK());
        }
        if (layout.teachers() != 1) {
            throw new IllegalArgumentException("sample weights read one dense teacher block; got " + layout.teachers()
                    + " stacked teachers (a MultiTeacher averaging per-teacher losses): use another aggregation");
        }
    }

    /**
     * A training model whose {@code fit} sees every batch with the weights in its labels mask: the
     * distiller wraps its student's training copy with it when sample weights are set.
     */
    public static TrainingModel training(TrainingModel model, SampleWeights weights, TargetLayout layout) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(weights, "sample weights must not be null");
        return new TrainingModel() {
            @Override
            public void fit(DataSetIterator iterator) {
                model.fit(new SampleWeightingIterator(iterator, weights, layout));
            }

            @Override
            public Model network() {
                return model.network();
            }

            @Override
            public void addListeners(TrainingListener... listeners) {
                model.addListeners(listeners);
            }

            @Override
            public INDArray params() {
                return model.params();
            }

            @Override
            public Model exportPlain() {
                return model.exportPlain();
            }
        };
    }

    @Override
    public DataSet next() {
        return weigh(packed.next());
    }

    @Override
    public DataSet next(int num) {
        return weigh(packed.next(num));
    }

    private DataSet weigh(org.nd4j.linalg.dataset.api.DataSet ds) {
        INDArray labels = ds.getLabels();
        if (labels.rank() != 2) {
            throw new IllegalArgumentException("sample weights support [batch, classes] labels only, got packed labels "
                    + "of shape " + Arrays.toString(labels.shape()) + " (sequences are not supported)");
        }
        int n = (int) labels.size(0);
        int c = layout.classes();
        INDArray hard = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)).dup();
        INDArray teacher = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c)).dup();
        double[] w = weights.weights(ds.getFeatures(), hard, teacher);
        if (w == null || w.length != n) {
            throw new IllegalArgumentException("sample weights must return one weight per example (" + n + "), got "
                    + (w == null ? "null" : w.length));
        }
        for (int i = 0; i < n; i++) {
            if (!(w[i] >= 0) || Double.isInfinite(w[i])) {
                throw new IllegalArgumentException("sample weights must be finite and >= 0, got " + w[i] + " for example "
                        + i + " of the batch");
            }
        }
        INDArray mask = Nd4j.create(w, new long[] {n, 1}).castTo(labels.dataType());
        INDArray existing = ds.getLabelsMaskArray();
        if (existing != null) {
            mask = existing.castTo(labels.dataType()).mulColumnVector(mask);
        }
        return new DataSet(ds.getFeatures(), labels, ds.getFeaturesMaskArray(), mask);
    }

    @Override
    public boolean hasNext() {
        return packed.hasNext();
    }

    @Override
    public int inputColumns() {
        return packed.inputColumns();
    }

    @Override
    public int totalOutcomes() {
        return packed.totalOutcomes();
    }

    @Override
    public boolean resetSupported() {
        return packed.resetSupported();
    }

    /** False, as the teacher iterator it wraps: everything runs on the training thread. */
    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        packed.reset();
    }

    @Override
    public int batch() {
        return packed.batch();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        packed.setPreProcessor(preProcessor);
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return packed.getPreProcessor();
    }

    @Override
    public List<String> getLabels() {
        return packed.getLabels();
    }
}
