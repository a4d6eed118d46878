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
import io.kd4j.losses.testing.LossChecks;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class JensenShannonTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // q = [3/4, 1/4], p = [1/2, 1/2], m = [5/8, 3/8]
        // JSD = 0.5 KL(p||m) + 0.5 KL(q||m) = 0.5(0.0322693) + 0.5(0.0353749) = 0.0338221
        // u = 0.5 q (ln q - ln m) = [0.375 ln 1.2, 0.125 ln(2/3)] = [0.0683706, -0.0506831], sum u = 0.0176875
        // dL/ds = u - q sum u = [0.0683706 - 0.0132656, -0.0506831 - 0.0044219] = [0.0551050, -0.0551050]
        INDArray s = matrix(new double[][] {{Math.log(3), 0}});
        INDArray t = matrix(new double[][] {{0, 0}});
        LossResult r = JensenShannon.withTemperature(1.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(0.0338221, r.value(), 1e-7);
        assertEquals(0.0551050, r.studentGradient().getDouble(0, 0), 1e-7);
        assertEquals(-0.0551050, r.studentGradient().getDouble(0, 1), 1e-7);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 3.0})
    void givenRandomBatch_whenComputed_thenEqualsTrlAtHalfAndIsSymmetric(double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(JensenShannon.withTemperature(temp),
                (t, s) -> DivergenceReference.trlGeneralizedJsd(t, s, 0.5, temp), 29, 5, 6, 9, 1e-12);
        Random rnd = new Random(2);
        INDArray a = LossChecks.randomLogits(rnd, 4, 4, 7);
        INDArray b = LossChecks.randomLogits(rnd, 4, 4, 7);
        JensenShannon jsd = JensenShannon.withTemperature(temp);
        double ab = jsd.compute(LossInput.of(a).teacherLogits(b).build()).value();
        double ba = jsd.compute(LossInput.of(b).teacherLogits(a).build()).value();
        assertEquals(ab, ba, 1e-12);
        assertTrue(ab <= Math.log(2));
    }

    @Test
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences() {
        DivergenceChecks.assertGradientOnMatrix(JensenShannon.withTemperature(2.0), 31);
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        DivergenceChecks.assertMaskedSequenceTokenMean(JensenShannon.withTemperature(1.0),
                (t, s) -> DivergenceReference.trlGeneralizedJsd(t, s, 0.5, 1.0), 6);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        DivergenceChecks.assertZeroAtEquality(JensenShannon.withTemperature(1.0));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(JensenShannon.withTemperature(1.0));
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        DivergenceChecks.assertFiniteAtFloat32Extremes(JensenShannon.withTemperature(1.0));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("temperature must be > 0 and finite, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> JensenShannon.withTemperature(-1.0)).getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(JensenShannon.withTemperature(1.0));
    }

    @Test
    void givenCatalogueName_whenCreated_thenSameAsGeneralizedJsdAtHalf() {
        var loss = LossCatalogue.create("JensenShannon", Map.of("temperature", "2.0"));
        assertEquals("JensenShannon(temperature=2.0)", loss.describe());
        DivergenceChecks.assertDescribeRoundTrips(loss);
        INDArray s = LossChecks.randomLogits(new Random(8), 3, 3, 5);
        INDArray t = LossChecks.randomLogits(new Random(9), 3, 3, 5);
        LossResult a = loss.compute(LossInput.of(s).teacherLogits(t).build());
        LossResult b = GeneralizedJsd.of(2.0, 0.5).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(b.value(), a.value(), 0.0);
        assertEquals(b.studentGradient(), a.studentGradient());
    }
}
