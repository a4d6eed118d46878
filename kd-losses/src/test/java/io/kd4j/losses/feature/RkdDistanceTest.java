package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RkdDistanceTest {
    private final RkdDistance rkd = RkdDistance.create();

    @Test
    void givenPointsOnALine_whenComputed_thenMatchesHandArithmetic() {
        // student 0, 1, 3: d = 1, 3, 2 (each twice), mean 2 -> 0.5, 1.5, 1
        // teacher 0, 2, 4: d = 2, 4, 2, mean 8/3 -> 0.75, 1.5, 0.75
        // diffs -0.25, 0, 0.25 (twice each): Huber 0.5 x² = 0.03125 four times = 0.125; / 9 = 0.0138889
        INDArray s = array(new double[] {0, 1, 3}, 3, 1);
        INDArray t = array(new double[] {0, 2, 4}, 3, 1);
        assertEquals(0.125 / 9, FeatureChecks.value(rkd, s, t), 1e-15);
    }

    @Test
    void givenRandomFeatures_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 6, 5);
        INDArray t = random(2, 2, 6, 9);
        assertEquals(FeatureReference.rkdDistance(s, t), FeatureChecks.value(rkd, s, t), 1e-14);
        INDArray far = random(3, 40, 6, 5); // beyond the Huber knee for some pairs
        assertEquals(FeatureReference.rkdDistance(far, t.mul(0.01)), FeatureChecks.value(rkd, far, t.mul(0.01)), 1e-14);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(rkd, random(4, 2, 5, 3), random(5, 2, 5, 4), null);
        FeatureChecks.assertGradient(rkd, random(6, 2, 4, 2, 2, 2), random(7, 2, 4, 3, 2, 2), null);
        FeatureChecks.assertGradient(rkd, random(8, 2, 3, 2, 3), random(9, 2, 3, 2, 3),
                FeatureChecks.mask(3, 3, new int[] {1, 2}));
    }

    @Test
    void givenScaledStudentOrPermutedBatch_whenComputed_thenInvariant() {
        INDArray s = random(10, 2, 5, 4);
        INDArray t = random(11, 2, 5, 6);
        double base = FeatureChecks.value(rkd, s, t);
        assertEquals(base, FeatureChecks.value(rkd, s.mul(13), t), 1e-13);
        int[] order = {4, 2, 0, 3, 1};
        assertEquals(base, FeatureChecks.value(rkd, Nd4j.pullRows(s, 1, order), Nd4j.pullRows(t, 1, order)), 1e-13);
        assertEquals(0.0, FeatureChecks.value(rkd, s, s.mul(0.5)), 1e-15);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(rkd, random(12, 1, 3, 4), random(13, 1, 3, 2));
        FeatureChecks.assertMessage("RkdDistance: needs a batch of at least 2 examples, got 1",
                () -> rkd.compute(FeatureInput.of(random(1, 1, 1, 4), random(1, 1, 1, 4))));
        FeatureChecks.assertFloat32MatchesFloat64(rkd, random(14, 3, 4, 6), random(15, 3, 4, 3));
        FeatureChecks.assertCatalogueEntry("RkdDistance", Map.of(), "RkdDistance()");
    }
}
