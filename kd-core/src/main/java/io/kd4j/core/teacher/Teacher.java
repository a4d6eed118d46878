package io.kd4j.core.teacher;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen teacher: produces logits (pre-softmax outputs) and, on request, named intermediate
 * activations for a batch. A teacher is never updated: it runs in inference mode (no dropout, no
 * gradients) on its own copy of the parameters, so nothing the student's training does can change it.
 *
 * <p>Teachers run <em>outside</em> the student's {@code fit()} (in {@link io.kd4j.core.data.TeacherTargetIterator}):
 * DL4J networks share per-thread workspace names, and a teacher run from inside the student's fit
 * would invalidate the student's arrays.
 */
public interface Teacher {

    /** The teacher's logits for a batch: {@code [batch, classes]} or {@code [batch, classes, time]}. */
    INDArray logits(TeacherBatch batch);

    /**
     * Named intermediate activations for a batch (layer index as text for a MultiLayerNetwork, vertex
     * name for a ComputationGraph). Teachers that cannot provide them throw {@link UnsupportedOperationException}.
     */
    default Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        throw new UnsupportedOperationException(describe() + " does not provide intermediate activations");
    }

    /**
     * The weights of the teacher blocks that {@link #logits} stacks along dimension 1: {@code [1.0]} for
     * an ordinary teacher (logits {@code [batch, classes]}); {@code M} weights for a teacher whose logits
     * are {@code M} members' logits side by side ({@code [batch, M·classes]}, member {@code m} in columns
     * {@code m·classes ..}), such as a {@code MultiTeacher} that averages per-teacher losses. The
     * distillers then evaluate every teacher-reading loss term once per member and average them with
     * these weights.
     */
    default double[] blockWeights() {
        return new double[] {1.0};
    }

    /** A human-readable description (kind, layers, parameter count) for reports and provenance. */
    String describe();

    /**
     * A fingerprint of the teacher's configuration and parameters: two teachers with equal fingerprints
     * produce the same outputs. Teacher caches record it and refuse a mismatched teacher.
     */
    String fingerprint();

    /** A frozen teacher from a trained MultiLayerNetwork (the network itself is not modified). */
    static Teacher of(MultiLayerNetwork network) {
        return new MultiLayerTeacher(network);
    }

    /** A frozen teacher from a trained single-output ComputationGraph (not modified). */
    static Teacher of(ComputationGraph graph) {
        return new GraphTeacher(graph);
    }
}
