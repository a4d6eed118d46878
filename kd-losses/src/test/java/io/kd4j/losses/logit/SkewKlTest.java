package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.DivergenceReference;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class SkewKlTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenTrueKlAndDistillmValueMinusTeacherEntropy() {
        // q = [3/4, 1/4], p = [1/2, 1/2], skew 0.1: m = 0.1 p + 0.9 q = [0.725, 0.275]
        // KL(p||m) = 0.5 ln(0.5/0.725) + 0.5 ln(0.5/0.275) = 0.5(-0.3715636) + 0.5(0.5978370) = 0.1131367
        // DistiLLM's -sum p ln m = 0.5(0.3215836) + 0.5(1.2909842) = 0.8062839 = 0.1131367 + ln 2
        INDArray s = matrix(new double[][] {{Math.log(3), 0}});
        INDArray t = matrix(new double[][] {{0, 0}});
        double v = SkewKl.of(1.0, 0.1).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(0.1131367, v, 1e-7);
        assertEquals(0.8062839 - Math.log(2), v, 1e-7);
    }

    static Stream<Arguments> skewsAndTemperatures() {
        return Stream.of(Arguments.of(0.1, 1.0), Arguments.of(0.0, 2.0), Arguments.of(0.5, 1.0),
                Arguments.of(0.9, 3.0));
    }

    @ParameterizedTest
    @MethodSource("skewsAndTemperatures")
    void givenRandomBatch_whenComputed_thenEqualsTrueSkewKl(double skew, double temp) {
        DivergenceChecks.assertMatchesReferenceOnBatch(SkewKl.of(temp, skew),
                (t, s) -> DivergenceReference.skewKl(t, s, skew, temp), 43, 5, 6, 9, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("skewsAndTemperatures")
    void givenRandomRows_whenComparedWithDistillmForm_thenSameGradientAndValueOffsetByTeacherEntropy(double skew,
                                                                                                     double temp) {
        Random rnd = new Random(47);
        for (int trial = 0; trial < 4; trial++) {
            double[] t = LossChecks.randomLogits(rnd, 4, 6).toDoubleVector();
            double[] s = LossChecks.randomLogits(rnd, 4, 6).toDoubleVector();
            LossResult r = SkewKl.of(temp, skew).compute(LossInput.of(matrix(new double[][] {s}))
                    .teacherLogits(matrix(new double[][] {t})).build());
            double[] p = Reference.softmax(t, temp);
            double entropy = 0;
            for (double pi : p) {
                entropy -= pi * Math.log(pi);
            }
            assertEquals(DivergenceReference.distillmSkewedForwardKl(t, s, skew, temp) - entropy, r.value(), 1e-12);
            double[] distillmGrad = DivergenceReference.numericGradient(
                    x -> DivergenceReference.distillmSkewedForwardKl(t, x, skew, temp), s);
            for (int j = 0; j < s.length; j++) {
                assertEquals(distillmGrad[j], r.studentGradient().getDouble(0, j), 1e-8, "class " + j);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("skewsAndTemperatures")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double skew, double temp) {
        DivergenceChecks.assertGradientOnMatrix(SkewKl.of(temp, skew), 53);
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        DivergenceChecks.assertMaskedSequenceTokenMean(SkewKl.of(1.0, 0.1),
                (t, s) -> DivergenceReference.skewKl(t, s, 0.1, 1.0), 8);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        DivergenceChecks.assertZeroAtEquality(SkewKl.of(1.0, 0.1));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(SkewKl.of(1.0, 0.1));
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        DivergenceChecks.assertFiniteAtFloat32Extremes(SkewKl.of(1.0, 0.1));
        DivergenceChecks.assertFiniteAtFloat32Extremes(SkewKl.of(1.0, 0.0));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("skew must be in [0.0, 1.0], got -0.5",
                assertThrows(IllegalArgumentException.class, () -> SkewKl.of(1.0, -0.5)).getMessage());
        assertEquals("skew must be in [0.0, 1.0], got 1.1",
                assertThrows(IllegalArgumentException.class, () -> SkewKl.of(1.0, 1.1)).getMessage());
        assertEquals("temperature must be > 0 and finite, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> SkewKl.of(-1.0, 0.1)).getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(SkewKl.of(1.0, 0.1));
    }

    @Test
    void givenCatalogueName_whenCreated_thenDistillmDefaultsAndDescribeRoundTrip() {
        assertEquals("SkewKl(temperature=1.0, skew=0.1)", LossCatalogue.create("SkewKl").describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("skewkl", Map.of("skew", "0.3")));
    }
}
