package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MultiLabelKdTest {

    private static LossResult run(double temp, INDArray s, INDArray t) {
        return MultiLabelKd.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).build());
    }

    /** sigmoid written plainly. */
    private static double sig(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @Test
    void givenTwoLabels_whenComputed_thenMatchesHandArithmetic() {
        // Given teacher [0, ln 3] -> p = [1/2, 3/4], student [0, 0] -> q = [1/2, 1/2], T = 1:
        // label 0: KL = 0; label 1: 3/4 ln(3/2) + 1/4 ln(1/2) = 0.75*0.4054651 - 0.25*0.6931472 = 0.1308120
        // dL/ds = T (q - p) = [0, -1/4]
        LossResult r = run(1.0, matrix(new double[][] {{0, 0}}), matrix(new double[][] {{0, Math.log(3)}}));
        assertEquals(0.1308120, r.value(), 1e-7);
        assertEquals(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), r.value(), 1e-12);
        assertArrayEquals(new double[] {0, -0.25}, r.studentGradient().toDoubleVector(), 1e-12);
        // T = 2 with teacher [0, 2 ln 3]: the same Bernoullis, value x T^2 = 0.5232481, gradient x T = [0, -0.5]
        LossResult r2 = run(2.0, matrix(new double[][] {{0, 0}}), matrix(new double[][] {{0, 2 * Math.log(3)}}));
        assertEquals(0.5232481, r2.value(), 1e-7);
        assertArrayEquals(new double[] {0, -0.5}, r2.studentGradient().toDoubleVector(), 1e-12);
    }

    static Stream<Double> temperatures() {
        return Stream.of(0.5, 1.0, 4.0);
    }

    @ParameterizedTest
    @MethodSource("temperatures")
    void givenRandomBatch_whenComputed_thenEqualsBernoulliKlAndBceMinusTeacherEntropy(double temp) {
        Random rnd = new Random(13);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 7);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 7);
        double kl = 0;
        double bce = 0;
        double entropy = 0;
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 7; c++) {
                double x = s.getDouble(i, c) / temp;
                double p = sig(t.getDouble(i, c) / temp);
                double q = sig(x);
                kl += p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
                // torch binary_cross_entropy_with_logits(x, p): max(x, 0) - x p + log(1 + exp(-|x|))
                bce += Math.max(x, 0) - x * p + Math.log(1 + Math.exp(-Math.abs(x)));
                entropy += -p * Math.log(p) - (1 - p) * Math.log(1 - p);
            }
        }
        double value = run(temp, s, t).value();
        assertEquals(kl / 4 * temp * temp, value, 1e-12);
        assertEquals((bce - entropy) / 4 * temp * temp, value, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("temperatures")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        Random rnd = new Random(19);
        INDArray s = LossChecks.randomLogits(rnd, 4, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 4, 3, 5);
        assertGradientMatchesFiniteDifferences(MultiLabelKd.withTemperature(temp), s, b -> b.teacherLogits(t));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenTokenMeanOverValidPositions() {
        Random rnd = new Random(21);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 3, 2);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 3, 2);
        INDArray mask = matrix(new double[][] {{0, 1}, {1, 1}});
        MultiLabelKd loss = MultiLabelKd.withTemperature(2.0);
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        int[][] valid = {{0, 1}, {1, 0}, {1, 1}};
        double expected = 0;
        for (int[] bt : valid) {
            for (int c = 0; c < 3; c++) {
                double p = sig(t.getDouble(bt[0], c, bt[1]) / 2);
                double q = sig(s.getDouble(bt[0], c, bt[1]) / 2);
                expected += p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
            }
        }
        assertEquals(expected / 3 * 4, r.value(), 1e-12);
        for (int c = 0; c < 3; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 0), 0.0);
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        INDArray s = LossChecks.randomLogits(new Random(4), 30, 3, 6);
        LossResult r = run(3.0, s, s.dup());
        assertEquals(0.0, r.value(), 0.0);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependent() {
        Random rnd = new Random(8);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 4);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 4);
        assertEquals(run(2, s, t).value(), run(2, Nd4j.vstack(s, s), Nd4j.vstack(t, t)).value(), 1e-12);
    }

    @Test
    void givenExtremeLogits_whenComputedInFloat32_thenFiniteAndExact() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, -1e4f, 0f}});
        LossResult r = run(1.0, s, t);
        // label 0: p = sigmoid(-1e4) ~ 0, q ~ 1: KL = softplus(1e4) - softplus(-1e4) - p (2e4) = 1e4 (to e^-1e4)
        assertEquals(1e4, r.value(), 1e-9);
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
        assertArrayEquals(new double[] {1, 0, 0}, r.studentGradient().castTo(DataType.DOUBLE).toDoubleVector(), 1e-7);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("MultiLabelKd", Map.of("temperature", "-1")));
        assertEquals("temperature must be > 0 and finite, got -1.0", e1.getMessage());
        INDArray s = matrix(new double[][] {{0, 1}});
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> run(1, s, matrix(new double[][] {{0, 1, 2}})));
        assertTrue(e2.getMessage().contains("teacher_logits shape [1, 3] must equal student_logits shape [1, 2]"),
                e2.getMessage());
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                () -> run(1, matrix(new double[][] {{1, Double.NaN}}), s));
        assertTrue(e3.getMessage().contains("student_logits must be finite, got NaN at row 0, class 1"), e3.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultsAndDescribeRoundTrip() {
        var loss = LossCatalogue.create("multilabelkd");
        assertEquals("MultiLabelKd(temperature=1.0)", loss.describe());
        String d = LossCatalogue.create("MultiLabelKd", Map.of("temperature", "2.5")).describe();
        assertEquals("MultiLabelKd(temperature=2.5)", d);
        assertEquals(d, Objective.parse(d).terms().get(0).loss().describe());
    }
}
