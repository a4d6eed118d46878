package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class TinyBertAttentionMseTest {
    private final TinyBertAttentionMse loss = TinyBertAttentionMse.create();

    @Test
    void givenMaskedScores_whenComputed_thenMaskedScoresCountAsZero() {
        // s = [1, -10000, 2, 3] -> [1, 0, 2, 3]; t = [0, -10000, -200, 1] -> [0, 0, 0, 1]
        // diffs [1, 0, 2, 2]: (1 + 0 + 4 + 4) / 4 = 2.25; grad 2 d / 4 = [0.5, 0 (masked), 1, 1]
        INDArray s = array(new double[] {1, -10000, 2, 3}, 1, 1, 2, 2);
        INDArray t = array(new double[] {0, -10000, -200, 1}, 1, 1, 2, 2);
        LossResult r = loss.compute(FeatureInput.of(s, t));
        assertEquals(2.25, r.value(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0, 1, 1}, r.studentGradient().data().asDouble(), 1e-15);
    }

    @Test
    void givenRandomScores_whenGradientChecked_thenMatchesFiniteDifferences() {
        INDArray s = random(1, 3, 2, 2, 3, 3);
        s.putScalar(new long[] {0, 1, 2, 0}, -10000.0);
        FeatureChecks.assertGradient(loss, s, random(2, 3, 2, 2, 3, 3), null);
    }

    @Test
    void givenEqualScores_whenComputed_thenZero() {
        INDArray s = random(3, 3, 2, 2, 3, 3);
        assertEquals(0.0, FeatureChecks.value(loss, s, s.dup()), 0.0);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(loss, random(4, 1, 2, 1, 2, 2), random(5, 1, 2, 1, 2, 2));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> loss.compute(FeatureInput.of(random(1, 1, 2, 4), random(1, 1, 2, 4))));
        assertTrue(e.getMessage().startsWith("TinyBertAttentionMse: features must have rank 4, got student shape [2, 4]"),
                e.getMessage());
        FeatureChecks.assertFloat32MatchesFloat64(loss, random(7, 3, 2, 2, 3, 3), random(8, 3, 2, 2, 3, 3));
        FeatureChecks.assertCatalogueEntry("TinyBertAttentionMse", Map.of(), "TinyBertAttentionMse()");
    }
}
