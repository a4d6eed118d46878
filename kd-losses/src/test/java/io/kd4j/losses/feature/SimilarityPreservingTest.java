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

class SimilarityPreservingTest {
    private final SimilarityPreserving sp = SimilarityPreserving.create();

    @Test
    void givenTwoExamples_whenComputed_thenMatchesHandArithmetic() {
        // student rows e1, e2: G = I -> Ĝ = I; teacher [1], [1]: G = all ones -> Ĝ = all 1/sqrt2
        // ||Ĝt - Ĝs||² = 2 (1 - 0.7071068)² + 2 (0.7071068)² = 0.1715729 + 1 = 1.1715729; / 4 = 0.2928932
        INDArray s = array(new double[] {1, 0, 0, 1}, 2, 2);
        INDArray t = array(new double[] {1, 1}, 2, 1);
        assertEquals(1 - 1 / Math.sqrt(2), FeatureChecks.value(sp, s, t), 1e-15);
    }

    @Test
    void givenRandomConvMaps_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 5, 3, 2, 2);
        INDArray t = random(2, 2, 5, 4, 3, 3);
        assertEquals(FeatureReference.similarityPreserving(s, t), FeatureChecks.value(sp, s, t), 1e-14);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(sp, random(3, 2, 4, 5), random(4, 2, 4, 7), null);
        FeatureChecks.assertGradient(sp, random(5, 2, 3, 2, 2, 2), random(6, 2, 3, 3, 2, 2), null);
        FeatureChecks.assertGradient(sp, random(7, 2, 3, 2, 4), random(8, 2, 3, 3, 4),
                FeatureChecks.mask(3, 4, new int[] {0, 3}, new int[] {2, 0}));
    }

    @Test
    void givenScaledStudentOrPermutedBatch_whenComputed_thenInvariant() {
        INDArray s = random(9, 2, 4, 6);
        INDArray t = random(10, 2, 4, 3);
        double base = FeatureChecks.value(sp, s, t);
        assertEquals(base, FeatureChecks.value(sp, s.mul(0.01), t), 1e-13);
        int[] order = {2, 0, 3, 1};
        assertEquals(base, FeatureChecks.value(sp, Nd4j.pullRows(s, 1, order), Nd4j.pullRows(t, 1, order)), 1e-13);
        assertEquals(0.0, FeatureChecks.value(sp, s, s.mul(2)), 1e-15);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(sp, random(11, 1, 3, 4), random(12, 1, 3, 2));
        FeatureChecks.assertFloat32MatchesFloat64(sp, random(13, 3, 4, 6), random(14, 3, 4, 3));
        FeatureChecks.assertCatalogueEntry("SimilarityPreserving", Map.of(), "SimilarityPreserving()");
    }
}
