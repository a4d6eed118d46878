package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.DivergenceReference;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class SkewReverseKlTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // q = [3/4, 1/4], p = [1/2, 1/2], skew 0.1: m = 0.9 p + 0.1 q = [0.525, 0.475]
        // KL(q||m) = 0.75 ln(0.75/0.525) + 0.25 ln(0.25/0.475)
        //          = 0.75(0.3566749) + 0.25(-0.6418539) = 0.2675062 - 0.1604635 = 0.1070427
        INDArray s = matrix(new double[][] {{Math.log(3), 0}});
        INDArray t = matrix(new double[][] {{0, 0}});
        double v = SkewReverseKl.of(1.0, 0.1).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(0.1070427, v, 1e-7);
    }

    static Stream<Arguments> skewsAndTemperatures() {
        return Stream.of(Arguments.of(0.1, 1.0), Arguments.of(0.0, 2.0), Arguments.of(0.5, 1.0),
                Arguments.of(0.9, 3.0));
    }

    @ParameterizedTest
    @MethodSource("skewsAndTemperatures")
    void givenRandomBatch_whenComputed_thenEqualsDistillmSkewedReverseKl(double skew, double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(SkewReverseKl.of(temp, skew),
                (t, s) -> DivergenceReference.skewReverseKl(t, s, skew, temp), 59, 5, 6, 9, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("skewsAndTemperatures")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double skew, double temp) {
        DivergenceChecks.assertGradientOnMatrix(SkewReverseKl.of(temp, skew), 61);
    }

    @Test
    void givenSkewZero_whenComputed_thenEqualsReverseKl() {
        INDArray s = matrix(new double[][] {{0.3, -1.2, 2.0}, {1.0, 0.0, -0.5}});
        INDArray t = matrix(new double[][] {{1.3, 0.2, -1.0}, {-0.4, 0.9, 0.1}});
        var a = SkewReverseKl.of(2.0, 0.0).compute(LossInput.of(s).teacherLogits(t).build());
        var b = ReverseKl.withTemperature(2.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(b.value(), a.value(), 1e-14);
        for (int i = 0; i < 6; i++) {
            assertEquals(b.studentGradient().getDouble(i), a.studentGradient().getDouble(i), 1e-14);
        }
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        DivergenceChecks.assertMaskedSequenceTokenMean(SkewReverseKl.of(1.0, 0.1),
                (t, s) -> DivergenceReference.skewReverseKl(t, s, 0.1, 1.0), 9);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        DivergenceChecks.assertZeroAtEquality(SkewReverseKl.of(1.0, 0.1));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(SkewReverseKl.of(1.0, 0.1));
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        DivergenceChecks.assertFiniteAtFloat32Extremes(SkewReverseKl.of(1.0, 0.1));
        DivergenceChecks.assertFiniteAtFloat32Extremes(SkewReverseKl.of(1.0, 0.0));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("skew must be in [0.0, 1.0], got 2.0",
                assertThrows(IllegalArgumentException.class, () -> SkewReverseKl.of(1.0, 2.0)).getMessage());
        assertEquals("skew must be in [0.0, 1.0], got -0.1",
                assertThrows(IllegalArgumentException.class, () -> SkewReverseKl.of(1.0, -0.1)).getMessage());
        assertEquals("temperature must be > 0 and finite, got NaN",
                assertThrows(IllegalArgumentException.class, () -> SkewReverseKl.of(Double.NaN, 0.1)).getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(SkewReverseKl.of(1.0, 0.1));
    }

    @Test
    void givenCatalogueName_whenCreated_thenDistillmDefaultsAndDescribeRoundTrip() {
        assertEquals("SkewReverseKl(temperature=1.0, skew=0.1)", LossCatalogue.create("SkewReverseKl").describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("skewreversekl", Map.of("skew", "0.25")));
    }
}
