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

class FitNetsHintTest {
    private final FitNetsHint loss = FitNetsHint.create();

    @Test
    void givenDenseFeatures_whenComputed_thenMatchesHandArithmetic() {
        // diffs s - t = [1, 0, 0, -2]: MSE = (1 + 0 + 0 + 4) / 4 = 1.25; grad 2 d / 4 = [0.5, 0, 0, -1]
        LossResult r = loss.compute(FeatureInput.of(array(new double[] {1, 2, 3, 4}, 2, 2),
                array(new double[] {0, 2, 3, 6}, 2, 2)));
        assertEquals(1.25, r.value(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0, 0, -1}, r.studentGradient().data().asDouble(), 1e-15);
    }

    @Test
    void givenMaskedSequence_whenComputed_thenMeanOverValidStepsTimesSize() {
        // [1, 2, 2] (size 2, time 2), step t=1 masked: valid diffs (t=0): 3 - 0 and 1 - 0 -> (9 + 1) / 2 = 5
        INDArray s = array(new double[] {3, 100, 1, -100}, 1, 2, 2);
        INDArray t = array(new double[] {0, 0, 0, 0}, 1, 2, 2);
        LossResult r = loss.compute(new FeatureInput(s, t, FeatureChecks.mask(1, 2, new int[] {0, 1})));
        assertEquals(5.0, r.value(), 1e-15);
        // grad 2 d / 2 at valid steps, 0 at the masked step
        assertArrayEquals(new double[] {3, 0, 1, 0}, r.studentGradient().data().asDouble(), 1e-15);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(loss, random(1, 2, 3, 4), random(2, 2, 3, 4), null);
        FeatureChecks.assertGradient(loss, random(3, 2, 2, 3, 2, 2), random(4, 2, 2, 3, 2, 2), null);
        FeatureChecks.assertGradient(loss, random(5, 2, 2, 3, 4), random(6, 2, 2, 3, 4),
                FeatureChecks.mask(2, 4, new int[] {0, 3}, new int[] {1, 0}));
    }

    @Test
    void givenEqualFeatures_whenComputed_thenZeroValueAndGradient() {
        INDArray s = random(7, 3, 2, 3, 2, 2);
        LossResult r = loss.compute(FeatureInput.of(s, s.dup()));
        assertEquals(0.0, r.value(), 0.0);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void givenFloat32_whenComputed_thenMatchesFloat64() {
        FeatureChecks.assertFloat32MatchesFloat64(loss, random(8, 3, 4, 6), random(9, 3, 4, 6));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(loss, random(10, 1, 3, 4), random(11, 1, 3, 4));
        FeatureChecks.assertMessage("FitNetsHint: student_features shape [3, 4] must equal teacher_features shape "
                + "[3, 5] (add an adapter on the student tap to project it)",
                () -> loss.compute(FeatureInput.of(random(1, 1, 3, 4), random(1, 1, 3, 5))));
    }

    @Test
    void givenCatalogueName_whenCreated_thenSameLoss() {
        FeatureChecks.assertCatalogueEntry("FitNetsHint", Map.of(), "FitNetsHint()");
        assertTrue(loss.requiredInputs().toString().contains("STUDENT_FEATURES"));
    }
}
