package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class TinyBertHiddenMseTest {
    private final TinyBertHiddenMse loss = TinyBertHiddenMse.create();

    @Test
    void givenHiddenStates_whenComputed_thenMatchesTorchMseOverSeqHidden() {
        // kd4j layout [batch=1, hidden=2, time=3]; TinyBERT's [1, seq=3, hidden=2] holds the same numbers.
        // diffs h=0: [1, -1, 2], h=1: [0, 3, -2] -> squares 1 + 1 + 4 + 0 + 9 + 4 = 19, / 6 = 3.1666667
        INDArray s = array(new double[] {1, 0, 2, 5, 3, -2}, 1, 2, 3);
        INDArray t = array(new double[] {0, 1, 0, 5, 0, 0}, 1, 2, 3);
        LossResult r = loss.compute(FeatureInput.of(s, t));
        assertEquals(19.0 / 6, r.value(), 1e-15);
        assertArrayEquals(new double[] {2.0 / 6, -2.0 / 6, 4.0 / 6, 0, 6.0 / 6, -4.0 / 6},
                r.studentGradient().data().asDouble(), 1e-15);
    }

    @Test
    void givenAnyInput_whenComputed_thenSameValueAndGradientAsFitNetsHint() {
        INDArray s = random(1, 2, 2, 5, 3);
        INDArray t = random(2, 2, 2, 5, 3);
        INDArray m = FeatureChecks.mask(2, 3, new int[] {1, 2});
        LossResult a = loss.compute(new FeatureInput(s, t, m));
        LossResult b = FitNetsHint.create().compute(new FeatureInput(s, t, m));
        assertEquals(b.value(), a.value(), 0.0);
        assertEquals(b.studentGradient(), a.studentGradient());
    }

    @Test
    void givenRandomSequence_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(loss, random(3, 2, 2, 4, 3), random(4, 2, 2, 4, 3),
                FeatureChecks.mask(2, 3, new int[] {0, 2}));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(loss, random(5, 1, 2, 4), random(6, 1, 2, 4));
        FeatureChecks.assertFloat32MatchesFloat64(loss, random(7, 3, 2, 4, 3), random(8, 3, 2, 4, 3));
        FeatureChecks.assertCatalogueEntry("TinyBertHiddenMse", Map.of(), "TinyBertHiddenMse()");
    }
}
