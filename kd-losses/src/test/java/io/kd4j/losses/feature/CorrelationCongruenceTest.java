package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class CorrelationCongruenceTest {
    private final CorrelationCongruence cc = CorrelationCongruence.create();

    @Test
    void givenThreeScalars_whenComputed_thenMatchesHandArithmetic() {
        // delta = |[1, 2, 3] - 0| = [1, 2, 3]: (1*2 + 2*3) / (3 - 1) = 4
        // grad: b0 = delta1 / 2 = 1; b1 = (delta0 + delta2) / 2 = 2; b2 = delta1 / 2 = 1
        LossResult r = cc.compute(FeatureInput.of(array(new double[] {1, 2, 3}, 3, 1), array(new double[3], 3, 1)));
        assertEquals(4.0, r.value(), 1e-15);
        assertArrayEquals(new double[] {1, 2, 1}, r.studentGradient().data().asDouble(), 1e-15);
    }

    @Test
    void givenRandomFeatures_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 6, 5);
        INDArray t = random(2, 2, 6, 5);
        assertEquals(FeatureReference.correlation(s, t), FeatureChecks.value(cc, s, t), 1e-14);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(cc, random(3, 2, 4, 3), random(4, 2, 4, 3), null);
        FeatureChecks.assertGradient(cc, random(5, 2, 3, 2, 2, 2), random(6, 2, 3, 2, 2, 2), null);
        FeatureChecks.assertGradient(cc, random(7, 2, 3, 2, 3), random(8, 2, 3, 2, 3),
                FeatureChecks.mask(3, 3, new int[] {2, 1}));
    }

    @Test
    void givenEqualFeaturesOrErrorOnOneExample_whenComputed_thenZero() {
        INDArray s = random(9, 2, 5, 3);
        assertEquals(0.0, FeatureChecks.value(cc, s, s.dup()), 0.0);
        INDArray t = s.dup();
        t.putScalar(2, 1, 5.0); // only example 2 differs: no consecutive pair has two non-zero errors
        assertEquals(0.0, FeatureChecks.value(cc, s, t), 0.0);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(cc, random(11, 1, 3, 4), random(12, 1, 3, 4));
        FeatureChecks.assertMessage("CorrelationCongruence: needs a batch of at least 2 examples, got 1",
                () -> cc.compute(FeatureInput.of(random(1, 1, 1, 4), random(1, 1, 1, 4))));
        FeatureChecks.assertFloat32MatchesFloat64(cc, random(13, 3, 4, 6), random(14, 3, 4, 6));
        FeatureChecks.assertCatalogueEntry("CorrelationCongruence", Map.of(), "CorrelationCongruence()");
    }
}
