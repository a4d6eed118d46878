package io.kd4j.core.feature;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What it takes to turn a batch with packed logit targets into the {@link MultiDataSet} that a
 * feature-distillation training graph fits: the tapped teacher layers (label {@code 1 + j} is layer
 * {@code j}'s activation flattened per example) and, per tap, whether a {@code [time]} step mask follows
 * it. Small and {@link Serializable}, so a distributed worker (a Spark executor) can attach the teacher's
 * activations with its own copy of the teacher; {@link FeatureTraining#targets()} gives the one that
 * matches a training graph.
 *
 * @param teacherLayers the tapped teacher layers, in head order
 * @param masked per tap, whether the labels carry the step mask after the activation
 * @param auxiliary the number of auxiliary classifiers, whose labels follow the taps' and repeat label 0
 *     (the packed targets, with label 0's mask)
 */
public record FeatureTargets(List<String> teacherLayers, List<Boolean> masked, int auxiliary) implements Serializable {

    public FeatureTargets {
        teacherLayers = List.copyOf(Objects.requireNonNull(teacherLayers, "teacherLayers must not be null"));
        masked = List.copyOf(Objects.requireNonNull(masked, "masked must not be null"));
        if (auxiliary < 0) {
            throw new IllegalArgumentException("auxiliary must be >= 0, got " + auxiliary);
        }
        if (teacherLayers.isEmpty() && auxiliary == 0) {
            throw new IllegalArgumentException("teacherLayers must name at least one tapped layer");
        }
        if (masked.size() != teacherLayers.size()) {
            throw new IllegalArgumentException("masked must have one flag per teacher layer (" + teacherLayers.size()
                    + "), got " + masked.size());
        }
    }

    /** Targets for feature taps only (no auxiliary classifier). */
    public FeatureTargets(List<String> teacherLayers, List<Boolean> masked) {
        this(teacherLayers, masked, 0);
    }

    /**
     * The training graph's batch: {@code packed}'s features and packed logit labels ({@code [one-hot |
     * teacher | epoch]}, as label 0) plus {@code teacher}'s activations of the tapped layers. The teacher
     * runs here, on the calling thread, never inside the student's fit.
     */
    public MultiDataSet attach(DataSet packed, Teacher teacher) {
        Objects.requireNonNull(packed, "packed batch must not be null");
        Objects.requireNonNull(teacher, "teacher must not be null");
        INDArray fm = packed.getFeaturesMaskArray();
        Map<String, INDArray> acts = teacherLayers.isEmpty() ? Map.of()
                : teacher.activations(new TeacherBatch(packed.getFeatures(), fm, 0), teacherLayers);
        int n = (int) packed.getFeatures().size(0);
        INDArray[] labels = new INDArray[1 + teacherLayers.size() + auxiliary];
        labels[0] = packed.getLabels();
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
        INDArray[] labelMasks = new INDArray[labels.length];
        labelMasks[0] = packed.getLabelsMaskArray();
        for (int k = 1 + teacherLayers.size(); k < labels.length; k++) {
            labels[k] = labels[0];
            labelMasks[k] = labelMasks[0];
        }
        return new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {packed.getFeatures()}, labels,
                fm == null ? null : new INDArray[] {fm}, labelMasks);
    }

    /** The iterator of training-graph batches over {@code logits}, with {@code teacher}'s activations. */
    public FeatureTargetIterator iterator(TeacherTargetIterator logits, Teacher teacher) {
        return new FeatureTargetIterator(logits, teacher, this);
    }
}
