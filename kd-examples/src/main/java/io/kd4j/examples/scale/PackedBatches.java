package io.kd4j.examples.scale;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.feature.FeatureTargetIterator;
import io.kd4j.core.feature.FeatureTargets;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Batches whose labels already carry the teacher's outputs ({@link TargetLayout}:
 * {@code [one-hot | teacher | epoch]}), built by kd-core's {@link TeacherTargetIterator} <em>before</em>
 * anything is handed to a distributed trainer. Such a batch plus the student's JSON configuration
 * (whose output loss is the {@code DistillationLossFunction}) is all a ParallelWrapper worker or a
 * Spark executor needs: no teacher, no kd4j state travels. For feature distillation the batch is a
 * {@link MultiDataSet} whose label 0 is the packed logit block and whose other labels are the teacher's
 * tapped activations ({@link FeatureTargets}).
 */
public final class PackedBatches {
    private PackedBatches() {
    }

    /**
     * Runs the teacher (online network or {@code CachedTeacher}) over {@code data} once, on the calling
     * thread, and returns the packed batches in data order, with epoch 1.
     */
    public static List<DataSet> pack(DataSetIterator data, Teacher teacher, TargetLayout layout) {
        Objects.requireNonNull(data, "data must not be null");
        TeacherTargetIterator packing = new TeacherTargetIterator(data, teacher, layout);
        if (packing.resetSupported()) {
            packing.reset();
        }
        List<DataSet> out = new ArrayList<>();
        while (packing.hasNext()) {
            out.add(packing.next());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("data is empty: nothing to pack");
        }
        return out;
    }

    /**
     * Feature-distillation batches: {@link #pack} followed by the teacher's tapped activations
     * ({@code targets}, from {@code FeatureTraining.targets()}), on the calling thread, in data order,
     * with epoch 1.
     */
    public static List<MultiDataSet> packFeatures(DataSetIterator data, Teacher teacher, TargetLayout layout,
                                                  FeatureTargets targets) {
        Objects.requireNonNull(data, "data must not be null");
        Objects.requireNonNull(targets, "targets must not be null");
        FeatureTargetIterator packing = targets.iterator(new TeacherTargetIterator(data, teacher, layout), teacher);
        if (packing.resetSupported()) {
            packing.reset();
        }
        List<MultiDataSet> out = new ArrayList<>();
        while (packing.hasNext()) {
            out.add(packing.next());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("data is empty: nothing to pack");
        }
        return out;
    }

    /**
     * A copy of a packed batch whose epoch column says {@code epoch} (temperature schedules and
     * warm-ups read it on the worker). The teacher's outputs are not recomputed.
     *
     * @param epochColumn the layout's {@link TargetLayout#epochColumn()}
     */
    public static DataSet withEpoch(org.nd4j.linalg.dataset.api.DataSet packed, int epochColumn, int epoch) {
        INDArray labels = epochSet(packed.getLabels(), epochColumn, epoch);
        return new DataSet(packed.getFeatures(), labels, packed.getFeaturesMaskArray(), packed.getLabelsMaskArray());
    }

    /**
     * A copy of a feature-distillation batch whose epoch column (in label 0, the packed logit block)
     * says {@code epoch}; the teacher's activations (the other labels) are shared, not copied.
     *
     * @param epochColumn the layout's {@link TargetLayout#epochColumn()}
     */
    public static MultiDataSet withEpoch(MultiDataSet packed, int epochColumn, int epoch) {
        INDArray[] labels = packed.getLabels().clone();
        labels[0] = epochSet(labels[0], epochColumn, epoch);
        return new org.nd4j.linalg.dataset.MultiDataSet(packed.getFeatures(), labels, packed.getFeaturesMaskArrays(),
                packed.getLabelsMaskArrays());
    }

    private static INDArray epochSet(INDArray packedLabels, int epochColumn, int epoch) {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
        }
        INDArray labels = packedLabels.dup();
        if (labels.rank() < 2 || epochColumn < 0 || epochColumn != labels.size(1) - 1) {
            throw new IllegalArgumentException("epochColumn must be the last label column (" + (labels.size(1) - 1)
                    + ") of packed labels " + Arrays.toString(labels.shape()) + ", got " + epochColumn);
        }
        INDArrayIndex[] column = new INDArrayIndex[labels.rank()];
        Arrays.fill(column, NDArrayIndex.all());
        column[1] = NDArrayIndex.point(epochColumn);
        labels.get(column).assign(epoch);
        return labels;
    }
}
