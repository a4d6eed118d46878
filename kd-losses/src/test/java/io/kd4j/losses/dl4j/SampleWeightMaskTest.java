package io.kd4j.losses.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.catalogue.Objective;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A labels mask holding per-example weights scales each example's score and gradient. */
class SampleWeightMaskTest {
    private final DistillationLossFunction fn = DistillationLossFunction.of(
            Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)"), TargetLayout.dense(3));

    // packed [one-hot (3) | teacher logits (3) | epoch]
    private final INDArray labels = Nd4j.create(new double[][] {
            {1, 0, 0, 2.0, 0.5, -1.0, 1},
            {0, 1, 0, 0.0, 1.5, 0.2, 1},
            {0, 0, 1, -0.3, 0.1, 0.9, 1}}).castTo(DataType.DOUBLE);
    private final INDArray logits = Nd4j.create(new double[][] {
            {0.3, -0.2, 0.1}, {1.0, 0.4, -0.6}, {-0.5, 0.0, 0.7}}).castTo(DataType.DOUBLE);

    private static INDArray column(double... w) {
        return Nd4j.create(w, new long[] {w.length, 1}, DataType.DOUBLE);
    }

    @Test
    void givenWeightsInLabelsMask_whenScoredAndDifferentiated_thenEachExampleScaledByItsWeight() {
        ActivationIdentity id = new ActivationIdentity();
        INDArray plainScores = fn.computeScoreArray(labels, logits, id, null);
        INDArray plainGrad = fn.computeGradient(labels, logits, id, null);
        double[] w = {2.0, 0.0, 0.5};
        INDArray scores = fn.computeScoreArray(labels, logits, id, column(w));
        INDArray grad = fn.computeGradient(labels, logits, id, column(w));
        for (int i = 0; i < 3; i++) {
            assertEquals(w[i] * plainScores.getDouble(i, 0), scores.getDouble(i, 0), 1e-12, "score " + i);
            for (int k = 0; k < 3; k++) {
                assertEquals(w[i] * plainGrad.getDouble(i, k), grad.getDouble(i, k), 1e-12, "gradient " + i + "," + k);
            }
        }
        // unit weights are the same as no mask
        assertArrayEquals(plainGrad.ravel().toDoubleVector(),
                fn.computeGradient(labels, logits, id, column(1, 1, 1)).ravel().toDoubleVector(), 1e-12);
    }

    @Test
    void givenNegativeWeight_whenScored_thenClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fn.computeScoreArray(labels, logits, new ActivationIdentity(), column(1, -0.5, 1)));
        assertEquals("labels mask values (0/1, or per-example sample weights) must be finite and >= 0, got -0.5 "
                + "at example 1", e.getMessage());
    }
}
