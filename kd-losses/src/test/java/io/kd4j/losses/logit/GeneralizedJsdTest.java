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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class GeneralizedJsdTest {
    private static final INDArray S = matrix(new double[][] {{Math.log(3), 0}});
    private static final INDArray T = matrix(new double[][] {{0, 0}});

    private static double value(double beta) {
        return GeneralizedJsd.of(1.0, beta).compute(LossInput.of(S).teacherLogits(T).build()).value();
    }

    @Test
    void givenTwoClassLogitsAtHalf_whenComputed_thenMatchesHandArithmetic() {
        // Given q = softmax([ln 3, 0]) = [3/4, 1/4], p = softmax([0, 0]) = [1/2, 1/2], beta = 0.5:
        // m = 0.5 p + 0.5 q = [5/8, 3/8]
        // KL(p||m) = 0.5 ln(0.5/0.625) + 0.5 ln(0.5/0.375) = 0.5(-0.2231436) + 0.5(0.2876821) = 0.0322693
        // KL(q||m) = 0.75 ln(1.2) + 0.25 ln(2/3) = 0.75(0.1823216) + 0.25(-0.4054651) = 0.0353749
        // JSD = 0.5 * 0.0322693 + 0.5 * 0.0353749 = 0.0338221
        assertEquals(0.0338221, value(0.5), 1e-7);
    }

    @Test
    void givenBetaAtEndpoints_whenComputed_thenTrlSpecialCasesForwardAndReverseKl() {
        // beta = 0: KL(p||q) = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) = -0.2027326 + 0.3465736 = 0.1438410
        assertEquals(0.1438410, value(0.0), 1e-7);
        // beta = 1: KL(q||p) = 0.75 ln(1.5) + 0.25 ln(0.5) = 0.3040988 - 0.1732868 = 0.1308120
        assertEquals(0.1308120, value(1.0), 1e-7);
    }

    @Test
    void givenBetaNearEndpoints_whenComputed_thenGeneralFormulaVanishes_TrlDiscontinuity() {
        // the general formula tends to 0 as beta -> 0 or 1, while the endpoints are full KLs
        assertTrue(value(1e-9) < 1e-8, "beta = 1e-9 gives " + value(1e-9));
        assertTrue(value(1 - 1e-9) < 1e-8, "beta = 1 - 1e-9 gives " + value(1 - 1e-9));
        assertTrue(value(0.0) > 0.14 && value(1.0) > 0.13);
    }

    static Stream<Arguments> betasAndTemperatures() {
        return Stream.of(Arguments.of(0.0, 1.0), Arguments.of(0.1, 2.0), Arguments.of(0.5, 1.0),
                Arguments.of(0.5, 0.9), Arguments.of(0.9, 4.0), Arguments.of(1.0, 2.0));
    }

    @ParameterizedTest
    @MethodSource("betasAndTemperatures")
    void givenRandomBatch_whenComputed_thenEqualsTrlGeneralizedJsd(double beta, double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(GeneralizedJsd.of(temp, beta),
                (t, s) -> DivergenceReference.trlGeneralizedJsd(t, s, beta, temp), 23, 5, 6, 9, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("betasAndTemperatures")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double beta, double temp) {
        DivergenceChecks.assertGradientOnMatrix(GeneralizedJsd.of(temp, beta), 13);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.3, 1.0})
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch(double beta) {
        DivergenceChecks.assertMaskedSequenceTokenMean(GeneralizedJsd.of(1.5, beta),
                (t, s) -> DivergenceReference.trlGeneralizedJsd(t, s, beta, 1.5), 4);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5, 1.0})
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient(double beta) {
        DivergenceChecks.assertZeroAtEquality(GeneralizedJsd.of(2.0, beta));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5, 1.0})
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero(double beta) {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(GeneralizedJsd.of(1.0, beta));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5, 1.0})
    void givenExtremeFloat32Logits_whenComputed_thenFinite(double beta) {
        DivergenceChecks.assertFiniteAtFloat32Extremes(GeneralizedJsd.of(1.0, beta));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("teacherMixWeight must be in [0.0, 1.0], got -0.1",
                assertThrows(IllegalArgumentException.class, () -> GeneralizedJsd.of(1.0, -0.1)).getMessage());
        assertEquals("teacherMixWeight must be in [0.0, 1.0], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> GeneralizedJsd.of(1.0, 1.5)).getMessage());
        assertEquals("teacherMixWeight must be in [0.0, 1.0], got NaN",
                assertThrows(IllegalArgumentException.class, () -> GeneralizedJsd.of(1.0, Double.NaN)).getMessage());
        assertEquals("temperature must be > 0 and finite, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> GeneralizedJsd.of(0.0, 0.5)).getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(GeneralizedJsd.of(1.0, 0.5));
    }

    @Test
    void givenCatalogueName_whenCreated_thenTrlDefaultsAndDescribeRoundTrip() {
        var loss = LossCatalogue.create("GeneralizedJsd");
        assertEquals("GeneralizedJsd(temperature=1.0, teacherMixWeight=0.5)", loss.describe());
        DivergenceChecks.assertDescribeRoundTrips(
                LossCatalogue.create("generalizedjsd", Map.of("teacherMixWeight", "0.9", "temperature", "2")));
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("GeneralizedJsd", Map.of(
                "teacherMixWeight", "0", "temperature", "4", "temperatureSchedule", "cosine", "temperatureEnd", "1")));
        LossResult viaCatalogue = LossCatalogue.create("GeneralizedJsd", Map.of("teacherMixWeight", "1"))
                .compute(LossInput.of(S).teacherLogits(T).build());
        assertEquals(value(1.0), viaCatalogue.value(), 0.0);
    }
}
