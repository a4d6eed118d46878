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

class PktTest {
    private final Pkt pkt = Pkt.create();

    @Test
    void givenOrthogonalVersusParallel_whenComputed_thenMatchesHandArithmetic() {
        // student e1, e2: cos = I -> P = [[1, .5], [.5, 1]] -> Q = [[2/3, 1/3], [1/3, 2/3]]
        // teacher [1,0], [1,0]: cos = 1 -> P = 1 -> Q = 1/2 everywhere
        // L = (2 * 0.5 ln(0.5/(2/3)) + 2 * 0.5 ln(0.5/(1/3))) / 4 = (-0.2876821 + 0.4054651) / 4 = 0.0294458
        INDArray s = array(new double[] {1, 0, 0, 1}, 2, 2);
        INDArray t = array(new double[] {1, 0, 1, 0}, 2, 2);
        assertEquals((Math.log(0.75) + Math.log(1.5)) / 4, FeatureChecks.value(pkt, s, t), 1e-6);
    }

    @Test
    void givenRandomFeatures_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 6, 5);
        INDArray t = random(2, 2, 6, 8);
        assertEquals(FeatureReference.pkt(s, t), FeatureChecks.value(pkt, s, t), 1e-14);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(pkt, random(3, 2, 4, 3), random(4, 2, 4, 5), null);
        FeatureChecks.assertGradient(pkt, random(5, 2, 3, 2, 2, 2), random(6, 2, 3, 1, 2, 2), null);
        FeatureChecks.assertGradient(pkt, random(7, 2, 3, 2, 3), random(8, 2, 3, 2, 3),
                FeatureChecks.mask(3, 3, new int[] {2, 1}));
    }

    @Test
    void givenPermutedBatchOrSameDirections_whenComputed_thenInvariants() {
        INDArray s = random(9, 2, 5, 3);
        INDArray t = random(10, 2, 5, 4);
        double base = FeatureChecks.value(pkt, s, t);
        int[] order = {1, 4, 3, 0, 2};
        assertEquals(base, FeatureChecks.value(pkt, Nd4j.pullRows(s, 1, order), Nd4j.pullRows(t, 1, order)), 1e-13);
        assertEquals(0.0, FeatureChecks.value(pkt, s, s.mul(3)), 1e-9);
        assertEquals(true, base > 0);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(pkt, random(11, 1, 3, 4), random(12, 1, 3, 2));
        FeatureChecks.assertFloat32MatchesFloat64(pkt, random(13, 3, 4, 6), random(14, 3, 4, 3));
        FeatureChecks.assertCatalogueEntry("Pkt", Map.of(), "Pkt()");
    }
}
