package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.DivergenceReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class ReverseKlTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // Given student [ln 3, 0] and teacher [0, 0] at T = 1: q = [3/4, 1/4], p = [1/2, 1/2]
        // KL(q||p) = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.75*0.4054651 - 0.25*0.6931472 = 0.1308120
        // dL/ds_k = q_k (ln q_k - ln p_k - KL) / T:
        //   k=0: 0.75 (0.4054651 - 0.1308120) = 0.75 * 0.2746531 = 0.2059898
        //   k=1: 0.25 (-0.6931472 - 0.1308120) = 0.25 * -0.8239592 = -0.2059898
        INDArray s = matrix(new double[][] {{Math.log(3), 0}});
        INDArray t = matrix(new double[][] {{0, 0}});
        LossResult r = ReverseKl.withTemperature(1.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(0.1308120, r.value(), 1e-7);
        assertEquals(0.2059898, r.studentGradient().getDouble(0, 0), 1e-7);
        assertEquals(-0.2059898, r.studentGradient().getDouble(0, 1), 1e-7);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 2.0, 4.0})
    void givenRandomBatch_whenComputed_thenEqualsDistillmReverseKlWithoutTSquared(double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(ReverseKl.withTemperature(temp),
                (t, s) -> DivergenceReference.reverseKl(t, s, temp), 17, 5, 6, 9, 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        DivergenceChecks.assertGradientOnMatrix(ReverseKl.withTemperature(temp), 11);
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        DivergenceChecks.assertMaskedSequenceTokenMean(ReverseKl.withTemperature(2.0),
                (t, s) -> DivergenceReference.reverseKl(t, s, 2.0), 3);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        DivergenceChecks.assertZeroAtEquality(ReverseKl.withTemperature(3.0));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(ReverseKl.withTemperature(2.0));
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        DivergenceChecks.assertFiniteAtFloat32Extremes(ReverseKl.withTemperature(1.0));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReverseKl.withTemperature(-1.0));
        assertEquals("temperature must be > 0 and finite, got -1.0", e.getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(ReverseKl.withTemperature(1.0));
    }

    @Test
    void givenLinearSchedule_whenEpochAdvances_thenUsesScheduledTemperature() {
        INDArray s = matrix(new double[][] {{0.3, -0.2, 1.0}});
        INDArray t = matrix(new double[][] {{1.3, 0.2, -1.0}});
        ReverseKl scheduled = new ReverseKl(new TemperatureSchedule(TemperatureSchedule.Kind.LINEAR, 8.0, 2.0, 10.0));
        double value = scheduled.compute(LossInput.of(s).teacherLogits(t).epoch(6.0).build()).value();
        assertEquals(DivergenceReference.reverseKl(t.toDoubleVector(), s.toDoubleVector(), 5.0), value, 1e-12);
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultsAndDescribeRoundTrip() {
        var loss = LossCatalogue.create("reversekl");
        assertEquals("ReverseKl(temperature=1.0)", loss.describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("ReverseKl", Map.of("temperature", "2.5")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("ReverseKl", Map.of("temp", "2")));
        assertTrue(e.getMessage().contains("unknown parameter [temp] for loss ReverseKl"), e.getMessage());
    }
}
