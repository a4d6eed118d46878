package io.kd4j.core.data;

import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Attaches the teacher's outputs to every batch of a data set iterator, <em>before</em> the student's
 * {@code fit()} sees the batch: the labels become the packed targets of a {@link TargetLayout}
 * ({@code [one-hot | teacher logits | epoch]}), which the student's
 * {@link io.kd4j.losses.dl4j.DistillationLossFunction} unpacks. Online teachers run here; cached
 * teachers read their stored outputs here. Nothing runs inside the student's fit.
 *
 * <p>With a {@link CachedTopKTeacher} the teacher block is the top-k layout instead
 * ({@code [one-hot | k indices | k log-probabilities | epoch]}, {@link TargetLayout#topK()} = the cache's k),
 * for the sparse losses ({@code SparseTopKKl}, {@code SparseTopKTvd}); a sequence cache serves
 * {@code [batch, classes, time]} labels the same way along dimension 1, for the steps of the labels
 * mask (else the features mask).
 *
 * <p>A teacher with several {@link Teacher#blockWeights() blocks} (a {@code MultiTeacher} averaging
 * per-teacher losses) needs a layout with as many {@link TargetLayout#teachers() teachers}: its stacked
 * logits {@code [batch, M·classes]} become the teacher block as they are.
 *
 * <p>Every batch is checked: the hard labels must have {@code classes} columns and the teacher's
 * logits the labels' shape (times the number of stacked teachers along dimension 1); a mismatch is an
 * error naming both shapes.
 */
public final class TeacherTargetIterator implements DataSetIterator {
    private static final long serialVersionUID = 1L;

    private final DataSetIterator base;
    private final transient Teacher teacher;
    private final transient CachedTopKTeacher topK;
    private final TargetLayout layout;
    private int epoch = 1;
    private long position;
    private long lastBatchStart;
    private long teacherNanos;
    private long examples;

    public TeacherTargetIterator(DataSetIterator base, Teacher teacher, TargetLayout layout) {
        this.base = Objects.requireNonNull(base, "data iterator must not be null");
        this.teacher = Objects.requireNonNull(teacher, "teacher must not be null");
        this.layout = Objects.requireNonNull(layout, "layout must not be null");
        this.topK = null;
        if (layout.topK() != 0) {
            throw new IllegalArgumentException("TeacherTargetIterator attaches dense teacher logits; got topK="
                    + layout.topK() + " (use the CachedTopKTeacher constructor for a top-k teacher)");
        }
        if (teacher.blockWeights().length != layout.teachers()) {
            throw new IllegalArgumentException("the teacher stacks " + teacher.blockWeights().length + " teacher "
                    + "block(s) but the layout expects " + layout.teachers() + "; build it with layoutFor(teacher, classes)");
        }
    }

    /** Attaches top-k blocks read from a top-k teacher cache; {@code layout.topK()} must be the cache's k. */
    public TeacherTargetIterator(DataSetIterator base, CachedTopKTeacher topK, TargetLayout layout) {
        this.base = Objects.requireNonNull(base, "data iterator must not be null");
        this.topK = Objects.requireNonNull(topK, "top-k teacher cache must not be null");
        this.teacher = null;
        this.layout = Objects.requireNonNull(layout, "layout must not be null");
        if (layout.topK() != topK.k() || layout.classes() != topK.classes()) {
            throw new IllegalArgumentException("layout (classes=" + layout.classes() + ", topK=" + layout.topK()
                    + ") must match the top-k cache (classes=" + topK.classes() + ", k=" + topK.k() + ")");
        }
    }

    /** The dense layout for {@code teacher}: one block per entry of its {@link Teacher#blockWeights()}. */
    public static TargetLayout layoutFor(Teacher teacher, int classes) {
        return new TargetLayout(classes, 0, teacher.blockWeights().length);
    }

    /** Sets the 1-based epoch written into the packed targets (schedules and warm-ups read it). */
    public void setEpoch(int epoch) {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
        }
        this.epoch = epoch;
    }

    /** Nanoseconds spent in the teacher since construction. */
    public long teacherNanos() {
        return teacherNanos;
    }

    /** Examples served since construction. */
    public long examples() {
        return examples;
    }

    /** Position in the data order of the first example of the last batch served. */
    public long lastBatchStart() {
        return lastBatchStart;
    }

    @Override
    public DataSet next() {
        return attach(base.next());
    }

    @Override
    public DataSet next(int num) {
        return attach(base.next(num));
    }

    private DataSet attach(org.nd4j.linalg.dataset.api.DataSet ds) {
        INDArray features = ds.getFeatures();
        INDArray labels = ds.getLabels();
        if (features == null || labels == null) {
            throw new IllegalArgumentException("each batch needs features and labels, got features="
                    + (features == null ? "null" : Arrays.toString(features.shape())) + ", labels="
                    + (labels == null ? "null" : Arrays.toString(labels.shape())));
        }
        if ((labels.rank() != 2 && labels.rank() != 3) || labels.size(1) != layout.classes()) {
            throw new IllegalArgumentException("labels must be one-hot [batch, " + layout.classes()
                    + "] (or [batch, " + layout.classes() + ", time]) for a student with " + layout.classes()
                    + " classes, got " + Arrays.toString(labels.shape()));
        }
        if (topK != null) {
            return attachTopK(ds, features, labels);
        }
        long start = System.nanoTime();
        INDArray logits = teacher.logits(new TeacherBatch(features, ds.getFeaturesMaskArray(), position));
        teacherNanos += System.nanoTime() - start;
        long[] expected = labels.shape().clone();
        expected[1] = layout.teacherWidth();
        if (!Arrays.equals(logits.shape(), expected)) {
            throw new IllegalArgumentException("teacher outputs have shape " + Arrays.toString(logits.shape())
                    + " but the labels have shape " + Arrays.toString(labels.shape())
                    + (layout.teachers() == 1 ? "" : " (expected " + layout.teachers() + " stacked teacher blocks: "
                    + Arrays.toString(expected) + ")")
                    + ": the teacher and the student must have the same number of classes");
        }
        lastBatchStart = position;
        int n = (int) features.size(0);
        position += n;
        examples += n;
        INDArray packed;
        if (labels.rank() == 2 && labels.dataType() == DataType.FLOAT) {
            packed = pack(n, floats(labels), layout.classes(), floats(logits), (int) logits.size(1));
        } else if (labels.rank() == 2) {
            INDArray epochCol = Nd4j.valueArrayOf(new long[] {n, 1}, (double) epoch, labels.dataType());
            packed = Nd4j.hstack(labels, logits.castTo(labels.dataType()), epochCol);
        } else {
            INDArray epochCol = Nd4j.valueArrayOf(new long[] {n, 1, labels.size(2)}, (double) epoch, labels.dataType());
            packed = Nd4j.concat(1, labels, logits.castTo(labels.dataType()), epochCol);
        }
        return new DataSet(features, packed, ds.getFeaturesMaskArray(), ds.getLabelsMaskArray());
    }

    private DataSet attachTopK(org.nd4j.linalg.dataset.api.DataSet ds, INDArray features, INDArray labels) {
        if ((labels.rank() == 3) != (topK.time() > 0)) {
            throw new IllegalArgumentException("the top-k teacher cache holds " + (topK.time() > 0 ? "sequences of "
                    + "length " + topK.time() + " ([batch, classes, time] labels)" : "[batch, classes] labels")
                    + ", got labels of shape " + Arrays.toString(labels.shape()));
        }
        // sequences: the steps the loss trains on (labels mask, else features mask) must be in the cache
        INDArray steps = ds.getLabelsMaskArray() != null ? ds.getLabelsMaskArray() : ds.getFeaturesMaskArray();
        long start = System.nanoTime();
        TopKTeacher top = topK.topK(new TeacherBatch(features, ds.getFeaturesMaskArray(), position),
                labels.rank() == 3 ? steps : null);
        teacherNanos += System.nanoTime() - start;
        lastBatchStart = position;
        int n = (int) features.size(0);
        position += n;
        examples += n;
        INDArray packed;
        if (labels.rank() == 2 && labels.dataType() == DataType.FLOAT) {
            int k = layout.topK();
            float[] idx = floats(top.indices());
            float[] lp = floats(top.logProbs());
            float[] block = new float[n * 2 * k];
            for (int i = 0; i < n; i++) {
                System.arraycopy(idx, i * k, block, i * 2 * k, k);
                System.arraycopy(lp, i * k, block, i * 2 * k + k, k);
            }
            packed = pack(n, floats(labels), layout.classes(), block, 2 * k);
        } else if (labels.rank() == 2) {
            INDArray epochCol = Nd4j.valueArrayOf(new long[] {n, 1}, (double) epoch, labels.dataType());
            packed = Nd4j.hstack(labels, top.indices().castTo(labels.dataType()),
                    top.logProbs().castTo(labels.dataType()), epochCol);
        } else {
            INDArray epochCol = Nd4j.valueArrayOf(new long[] {n, 1, labels.size(2)}, (double) epoch, labels.dataType());
            packed = Nd4j.concat(1, labels, top.indices().castTo(labels.dataType()),
                    top.logProbs().castTo(labels.dataType()), epochCol);
        }
        return new DataSet(features, packed, ds.getFeaturesMaskArray(), ds.getLabelsMaskArray());
    }

    /**
     * {@code [labels | teacher block | epoch]} for float32 labels, assembled on the heap and copied into
     * one ND4J array (one allocation instead of the three ND4J ops of a {@code hstack}).
     */
    private INDArray pack(int n, float[] labels, int classes, float[] teacherBlock, int teacherWidth) {
        int w = layout.width();
        float[] packed = new float[n * w];
        for (int i = 0; i < n; i++) {
            System.arraycopy(labels, i * classes, packed, i * w, classes);
            System.arraycopy(teacherBlock, i * teacherWidth, packed, i * w + classes, teacherWidth);
            packed[i * w + w - 1] = epoch;
        }
        return Nd4j.create(packed, new long[] {n, w}, 'c');
    }

    /** The values of a matrix in row-major order as float32. */
    private static float[] floats(INDArray a) {
        INDArray plain = a.dataType() == DataType.FLOAT && !a.isView() && a.ordering() == 'c' && a.data().offset() == 0
                && a.data().length() == a.length() ? a : a.castTo(DataType.FLOAT).dup('c');
        return plain.data().asFloat();
    }

    @Override
    public boolean hasNext() {
        return base.hasNext();
    }

    @Override
    public int inputColumns() {
        return base.inputColumns();
    }

    @Override
    public int totalOutcomes() {
        return layout.width();
    }

    @Override
    public boolean resetSupported() {
        return base.resetSupported();
    }

    /** False: the teacher must run on the training thread, outside DL4J's prefetch workspaces. */
    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        base.reset();
        position = 0;
    }

    @Override
    public int batch() {
        return base.batch();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        base.setPreProcessor(preProcessor);
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return base.getPreProcessor();
    }

    @Override
    public List<String> getLabels() {
        return base.getLabels();
    }
}
