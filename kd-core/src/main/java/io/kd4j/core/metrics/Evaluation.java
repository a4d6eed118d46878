package io.kd4j.core.metrics;

import io.kd4j.core.data.ClassGroups;
import io.kd4j.losses.logit.Ltkd.Group;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * A classifier's evaluation on labelled data: the confusion matrix (accuracy overall, per class, per
 * group) and calibration (ECE, reliability diagram).
 *
 * @param confusion top-1 confusion matrix
 * @param calibration ECE with 15 equal-width bins (Guo et al. 2017) and the bins
 */
public record Evaluation(ConfusionMatrix confusion, Calibration calibration) {
    public Evaluation {
        Objects.requireNonNull(confusion, "confusion");
        Objects.requireNonNull(calibration, "calibration");
    }

    /** Evaluates probability predictions. */
    public static Evaluation of(Predictions p) {
        return new Evaluation(ConfusionMatrix.of(p), Calibration.of(p));
    }

    /** Evaluates a softmax classifier (any DL4J MultiLayerNetwork or single-output ComputationGraph). */
    public static Evaluation of(Model model, DataSetIterator data) {
        return of(Predictions.of(model, data));
    }

    /** Top-1 accuracy. */
    public double accuracy() {
        return confusion.accuracy();
    }

    /** Expected calibration error (15 equal-width bins). */
    public double ece() {
        return calibration.ece();
    }

    /** Per-group accuracy (see {@link ConfusionMatrix#groupAccuracy}). */
    public Map<Group, Double> groupAccuracy(ClassGroups groups) {
        return confusion.groupAccuracy(groups);
    }
}
