package io.kd4j.core.feature;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Attaches the teacher's intermediate activations to each batch, next to the packed logit targets of
 * a {@link TeacherTargetIterator}: label 0 is the main output's {@code [one-hot | teacher | epoch]},
 * label {@code 1 + j} is tap {@code j}'s teacher activation flattened per example (plus the step
 * mask for recurrent taps), and each auxiliary classifier's label after them is label 0 again (the
 * same packed targets, with label 0's mask). The teacher runs here, on the training thread, before the student's fit
 * sees the batch ({@link #asyncSupported()} is false), never inside the fit.
 */
public final class FeatureTargetIterator implements MultiDataSetIterator {
    private static final long serialVersionUID = 1L;

    private final TeacherTargetIterator logits;
    private final Teacher teacher;
    private final List<String> teacherLayers;
    private final List<Boolean> masked;
    private final int auxiliary;
    private long activationNanos;

    FeatureTargetIterator(TeacherTargetIterator logits, Teacher teacher, List<String> teacherLayers,
                          List<Boolean> masked, int auxiliary) {
        this.logits = logits;
        this.teacher = teacher;
        this.teacherLayers = List.copyOf(teacherLayers);
        this.masked = List.copyOf(masked);
        this.auxiliary = auxiliary;
    }

    /** The logit-target iterator underneath (epoch, timing, example counts). */
    public TeacherTargetIterator logitTargets() {
        return logits;
    }

    /** Time spent computing the teacher's intermediate activations, in nanoseconds. */
    public long activationNanos() {
        return activationNanos;
    }

    @Override
    public MultiDataSet next() {
        DataSet d = logits.next();
        long start = System.nanoTime();
        INDArray fm = d.getFeaturesMaskArray();
        Map<String, INDArray> acts = teacherLayers.isEmpty() ? Map.of()
                : teacher.activations(new TeacherBatch(d.getFeatures(), fm, 0), teacherLayers);
        int n = (int) d.getFeatures().size(0);
        INDArray[] labels = new INDArray[1 + teacherLayers.size() + auxiliary];
        labels[0] = d.getLabels();
        for (int j = 0; j < teacherLayers.size(); j++) {
            INDArray a = acts.get(teacherLayers.get(j)).dup('c');
            INDArray flat = a.reshape('c', n, a.length() / n);
            if (masked.get(j)) {
                long time = a.size(2);
                INDArray mask = fm == null ? Nd4j.ones(a.dataType(), n, time) : fm.castTo(a.dataType()).reshape(n, time);
                flat = Nd4j.hstack(flat, mask);
            }
            labels[1 + j] = flat;
        }
        activationNanos += System.nanoTime() - start;
        INDArray[] labelMasks = new INDArray[labels.length];
        labelMasks[0] = d.getLabelsMaskArray();
        for (int k = 1 + teacherLayers.size(); k < labels.length; k++) {
            labels[k] = labels[0];
            labelMasks[k] = labelMasks[0];
        }
        return new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {d.getFeatures()}, labels,
                fm == null ? null : new INDArray[] {fm}, labelMasks);
    }

    @Override
    public MultiDataSet next(int num) {
        throw new UnsupportedOperationException("next(num) is not supported; use next()");
    }

    @Override
    public boolean hasNext() {
        return logits.hasNext();
    }

    @Override
    public boolean resetSupported() {
        return logits.resetSupported();
    }

    /** False: the teacher must run on the training thread, outside DL4J's prefetch workspace. */
    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        logits.reset();
    }

    @Override
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        throw new UnsupportedOperationException("set the pre-processor on the underlying DataSetIterator");
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return null;
    }

    /** The tapped teacher layers, in label order. */
    List<String> teacherLayers() {
        return new ArrayList<>(teacherLayers);
    }
}
