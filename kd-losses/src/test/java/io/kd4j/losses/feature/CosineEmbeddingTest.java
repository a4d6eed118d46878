package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class CosineEmbeddingTest {
    private final CosineEmbedding cos = CosineEmbedding.create();

    @Test
    void givenTwoRows_whenComputed_thenMatchesHandArithmetic() {
        // row 0: [1,0] vs [1,1] -> cos 1/sqrt2 -> 0.2928932; row 1: [0,2] vs [0,-1] -> cos -1 -> 2
        // mean = 1.1464466; dL/ds row 0 = -(t/(|s||t|) - cos s/|s|²)/2 = -([1,1]/sqrt2 - [1,0]/sqrt2)/2 = [0, -0.3535534]
        LossResult r = cos.compute(FeatureInput.of(array(new double[] {1, 0, 0, 2}, 2, 2),
                array(new double[] {1, 1, 0, -1}, 2, 2)));
        assertEquals((1 - 1 / Math.sqrt(2) + 2) / 2, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(-0.5 / Math.sqrt(2), r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @Test
    void givenMaskedHiddenStates_whenComputed_thenMatchesDistilBertMaskedSelect() {
        // kd4j [batch=2, hidden=3, time=4]; DistilBERT masked_select keeps the valid tokens as rows
        INDArray s = random(1, 2, 2, 3, 4);
        INDArray t = random(2, 2, 2, 3, 4);
        INDArray m = FeatureChecks.mask(2, 4, new int[] {0, 3}, new int[] {1, 1}, new int[] {1, 2});
        double[][] sr = new double[5][3];
        double[][] tr = new double[5][3];
        int r = 0;
        for (int b = 0; b < 2; b++) {
            for (int k = 0; k < 4; k++) {
                if (m.getDouble(b, k) != 0) {
                    for (int h = 0; h < 3; h++) {
                        sr[r][h] = s.getDouble(b, h, k);
                        tr[r][h] = t.getDouble(b, h, k);
                    }
                    r++;
                }
            }
        }
        assertEquals(FeatureReference.cosineEmbedding(sr, tr), cos.compute(new FeatureInput(s, t, m)).value(), 1e-14);
        FeatureChecks.assertGradient(cos, s, t, m);
    }

    @Test
    void givenDense_whenGradientCheckedAndScaled_thenFiniteDifferencesAndInvariance() {
        INDArray s = random(3, 2, 4, 5);
        INDArray t = random(4, 2, 4, 5);
        FeatureChecks.assertGradient(cos, s, t, null);
        assertEquals(FeatureChecks.value(cos, s, t), FeatureChecks.value(cos, s.mul(4), t), 1e-13);
        // 1 - cos differs from 0 by the 1e-12 added to each squared norm
        assertEquals(0.0, FeatureChecks.value(cos, s, s.mul(2)), 1e-12);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(cos, random(11, 1, 3, 4), random(12, 1, 3, 4));
        FeatureChecks.assertFloat32MatchesFloat64(cos, random(13, 3, 4, 6), random(14, 3, 4, 6));
        FeatureChecks.assertCatalogueEntry("CosineEmbedding", Map.of(), "CosineEmbedding()");
    }
}
