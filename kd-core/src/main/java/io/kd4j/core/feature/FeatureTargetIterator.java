package io.kd4j.core.feature;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import java.util.Objects;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * Attaches the teacher's intermediate activations to each batch, next to the packed logit targets of
 * a {@link TeacherTargetIterator}: label 0 is the main output's {@code [one-hot | teacher | epoch]},
 * label {@code 1 + j} is tap {@code j}'s teacher activation flattened per example (plus the step
 * mask for recurrent taps), and each auxiliary classifier's label after them is label 0 again (the
 * same packed targets, with label 0's mask). The teacher runs here, on the training thread, before the student's fit
 * sees the batch ({@link #asyncSupported()} is false), never inside the fit. Each batch is built by
 * {@link FeatureTargets#attach}.
 */
public final class FeatureTargetIterator implements MultiDataSetIterator {
    private static final long serialVersionUID = 1L;

    private final TeacherTargetIterator logits;
    private final Teacher teacher;
    private final FeatureTargets targets;
    private long activationNanos;

    FeatureTargetIterator(TeacherTargetIterator logits, Teacher teacher, FeatureTargets targets) {
        this.logits = Objects.requireNonNull(logits, "logit-target iterator must not be null");
        this.teacher = Objects.requireNonNull(teacher, "teacher must not be null");
        this.targets = targets;
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
        MultiDataSet m = targets.attach(d, teacher);
        activationNanos += System.nanoTime() - start;
        return m;
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

    /** The tapped teacher layers and step masks this iterator attaches. */
    public FeatureTargets targets() {
        return targets;
    }
}
