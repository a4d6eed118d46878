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
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RegressionKdTest {
    private final RegressionKd loss = new RegressionKd();

    private LossResult run(INDArray s, INDArray t) {
        return loss.compute(LossInput.of(s).teacherLogits(t).build());
    }

    @Test
    void givenThreeOutputs_whenComputed_thenMatchesHandArithmetic() {
        // s = [1, 2, 3], t = [0, 2, 5]: differences [1, 0, -2], squares [1, 0, 4], mean 5/3
        // dL/ds = 2 (s - t) / (n C) = [2/3, 0, -4/3]
        LossResult r = run(matrix(new double[][] {{1, 2, 3}}), matrix(new double[][] {{0, 2, 5}}));
        assertEquals(5.0 / 3, r.value(), 1e-12);
        assertArrayEquals(new double[] {2.0 / 3, 0, -4.0 / 3}, r.studentGradient().toDoubleVector(), 1e-12);
    }

    @Test
    void givenRandomBatch_whenComputed_thenEqualsTorchMseLossMeanReduction() {
        Random rnd = new Random(3);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 6);
        // F.mse_loss(s, t): mean over all 24 elements of (s - t)^2
        double sum = 0;
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 6; c++) {
                double d = s.getDouble(i, c) - t.getDouble(i, c);
                sum += d * d;
            }
        }
        assertEquals(sum / 24, run(s, t).value(), 1e-12);
    }

    @Test
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences() {
        Random rnd = new Random(5);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenTokenMeanOverValidPositions() {
        Random rnd = new Random(6);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {0, 0, 1}});
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        int[][] valid = {{0, 0}, {0, 2}, {1, 2}};
        double expected = 0;
        for (int[] bt : valid) {
            for (int c = 0; c < 4; c++) {
                double d = s.getDouble(bt[0], c, bt[1]) - t.getDouble(bt[0], c, bt[1]);
                expected += d * d / 4;
            }
        }
        assertEquals(expected / 3, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().getDouble(1, 2, 0), 0.0);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacherAndBatchRepeated_whenComputed_thenZeroAndBatchSizeIndependent() {
        Random rnd = new Random(7);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 4);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 4);
        LossResult same = run(s, s.dup());
        assertEquals(0.0, same.value(), 0.0);
        assertEquals(0.0, same.studentGradient().amaxNumber().doubleValue(), 0.0);
        assertEquals(run(s, t).value(), run(Nd4j.vstack(s, s), Nd4j.vstack(t, t)).value(), 1e-12);
    }

    @Test
    void givenExtremeLogits_whenComputedInFloat32_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, -1e4f}});
        LossResult r = run(s, t);
        assertEquals(2e8, r.value(), 1e-6); // (2e4)^2 / 2
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("RegressionKd", Map.of("temperature", "4")));
        assertEquals("unknown parameter [temperature] for loss RegressionKd; valid parameters: []", e1.getMessage());
        INDArray s = matrix(new double[][] {{0, 1}});
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> run(s, matrix(new double[][] {{0, 1}, {2, 3}})));
        assertTrue(e2.getMessage().contains("teacher_logits shape [2, 2] must equal student_logits shape [1, 2]"),
                e2.getMessage());
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                () -> run(s, matrix(new double[][] {{Double.NaN, 1}})));
        assertTrue(e3.getMessage().contains("teacher_logits must be finite, got NaN at row 0, class 0"), e3.getMessage());
        IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).build()));
        assertTrue(e4.getMessage().contains("requires teacher_logits"), e4.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDescribeRoundTrips() {
        String d = LossCatalogue.create("RegressionKd").describe();
        assertEquals("RegressionKd", d);
        assertEquals(d, Objective.parse(d).terms().get(0).loss().describe());
        assertEquals("0.5*RegressionKd + 0.5*MultiLabelKd(temperature=1.0)",
                Objective.parse("0.5*RegressionKd + 0.5*MultiLabelKd").describe());
    }
}
