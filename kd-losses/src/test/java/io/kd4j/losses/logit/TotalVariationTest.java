package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.DivergenceReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class TotalVariationTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // q = softmax([ln 3, 0]) = [3/4, 1/4], p = softmax([0, 0]) = [1/2, 1/2]
        // TVD = 0.5 (|3/4 - 1/2| + |1/4 - 1/2|) = 0.5 (1/4 + 1/4) = 0.25
        // L = 0.5 ((q0 - p0) - (q1 - p1)); dq0/ds0 = q0 q1 = 3/16, dq1/ds0 = -3/16
        // dL/ds0 = 0.5 (3/16 + 3/16) = 0.1875, dL/ds1 = -0.1875
        INDArray s = matrix(new double[][] {{Math.log(3), 0}});
        INDArray t = matrix(new double[][] {{0, 0}});
        LossResult r = TotalVariation.withTemperature(1.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(0.25, r.value(), 1e-12);
        assertEquals(0.1875, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(-0.1875, r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0})
    void givenRandomBatch_whenComputed_thenEqualsDistillmTvDistanceWithoutTSquared(double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(TotalVariation.withTemperature(temp),
                (t, s) -> DivergenceReference.totalVariation(t, s, temp), 37, 5, 6, 9, 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 3.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        DivergenceChecks.assertGradientOnMatrix(TotalVariation.withTemperature(temp), 41);
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        DivergenceChecks.assertMaskedSequenceTokenMean(TotalVariation.withTemperature(1.0),
                (t, s) -> DivergenceReference.totalVariation(t, s, 1.0), 7);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndZeroSubgradient() {
        // every |p - q| is at its kink; sign(0) = 0 makes the subgradient exactly zero
        DivergenceChecks.assertZeroAtEquality(TotalVariation.withTemperature(1.0));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(TotalVariation.withTemperature(1.0));
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFiniteAndBoundedByOne() {
        DivergenceChecks.assertFiniteAtFloat32Extremes(TotalVariation.withTemperature(1.0));
        INDArray s = matrix(new double[][] {{1e4, -1e4}});
        INDArray t = matrix(new double[][] {{-1e4, 1e4}});
        double v = TotalVariation.withTemperature(1.0).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(1.0, v, 1e-12);
        assertTrue(v <= 1.0);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("temperature must be > 0 and finite, got Infinity",
                assertThrows(IllegalArgumentException.class,
                        () -> TotalVariation.withTemperature(Double.POSITIVE_INFINITY)).getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(TotalVariation.withTemperature(1.0));
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultsAndDescribeRoundTrip() {
        assertEquals("TotalVariation(temperature=1.0)", LossCatalogue.create("totalvariation").describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("TotalVariation", Map.of("temperature", "3")));
    }
}
