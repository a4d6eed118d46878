package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SoftTargetKlTest {

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // Given student [0, 0] and teacher [ln 3, 0] at T = 1:
        // p = [3/4, 1/4], q = [1/2, 1/2]
        // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.75*0.4054651 - 0.25*0.6931472 = 0.1308120
        INDArray s = matrix(new double[][] {{0, 0}});
        INDArray t = matrix(new double[][] {{Math.log(3), 0}});
        LossResult r = SoftTargetKl.withTemperature(1.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), r.value(), 1e-12);
        assertEquals(0.1308120, r.value(), 1e-7);
        // dL/ds = T (q - p) / n = [0.5 - 0.75, 0.5 - 0.25] = [-0.25, 0.25]
        assertEquals(-0.25, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(0.25, r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @Test
    void givenBatch_whenComputedAtT4_thenEqualsMdistillerConvention() {
        // Given random logits, the reference value is mean_i KL(p_i || q_i) * T^2 (mdistiller kd_loss)
        Random rnd = new Random(7);
        INDArray s = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray t = LossChecks.randomLogits(rnd, 5, 6, 10);
        double temp = 4.0;
        double expected = 0;
        for (int i = 0; i < 6; i++) {
            double[] p = Reference.softmax(t.getRow(i).toDoubleVector(), temp);
            double[] q = Reference.softmax(s.getRow(i).toDoubleVector(), temp);
            expected += Reference.kl(p, q);
        }
        expected = expected / 6 * temp * temp;
        double actual = SoftTargetKl.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(expected, actual, 1e-12);
    }

    static Stream<Double> temperatures() {
        return Stream.of(0.5, 1.0, 4.0, 20.0);
    }

    @ParameterizedTest
    @MethodSource("temperatures")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        Random rnd = new Random(11);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 5);
        assertGradientMatchesFiniteDifferences(SoftTargetKl.withTemperature(temp), s, b -> b.teacherLogits(t));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenTokenMeanOverValidPositions() {
        // Given [batch=2, classes=3, time=2] with position (1, 1) masked out
        Random rnd = new Random(3);
        INDArray s = LossChecks.randomLogits(rnd, 2, 2, 3, 2);
        INDArray t = LossChecks.randomLogits(rnd, 2, 2, 3, 2);
        INDArray mask = matrix(new double[][] {{1, 1}, {1, 0}});
        SoftTargetKl kd = SoftTargetKl.withTemperature(2.0);
        LossResult r = kd.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        double expected = 0;
        int[][] valid = {{0, 0}, {0, 1}, {1, 0}};
        for (int[] bt : valid) {
            double[] sr = new double[3];
            double[] tr = new double[3];
            for (int c = 0; c < 3; c++) {
                sr[c] = s.getDouble(bt[0], c, bt[1]);
                tr[c] = t.getDouble(bt[0], c, bt[1]);
            }
            expected += Reference.kl(Reference.softmax(tr, 2.0), Reference.softmax(sr, 2.0));
        }
        expected = expected / 3 * 4.0;
        assertEquals(expected, r.value(), 1e-12);
        for (int c = 0; c < 3; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 1), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(kd, s, b -> b.teacherLogits(t).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        INDArray s = LossChecks.randomLogits(new Random(1), 4, 3, 7);
        LossResult r = SoftTargetKl.withTemperature(4).compute(LossInput.of(s).teacherLogits(s.dup()).build());
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependentAndRowsSumToZero() {
        Random rnd = new Random(5);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4);
        SoftTargetKl kd = SoftTargetKl.withTemperature(3);
        LossResult one = kd.compute(LossInput.of(s).teacherLogits(t).build());
        LossResult twice = kd.compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t)).build());
        assertEquals(one.value(), twice.value(), 1e-12);
        assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenExtremeLogits_whenComputedInFloat32_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}});
        LossResult r = SoftTargetKl.withTemperature(1).compute(LossInput.of(s).teacherLogits(t).build());
        assertTrue(Double.isFinite(r.value()));
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        INDArray s = matrix(new double[][] {{0, 1}});
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class,
                () -> SoftTargetKl.withTemperature(-1.0));
        assertEquals("temperature must be > 0 and finite, got -1.0", e1.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> SoftTargetKl.withTemperature(1).compute(LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1, 2}})).build()));
        assertTrue(e2.getMessage().contains("teacher_logits shape [1, 3] must equal student_logits shape [1, 2]"), e2.getMessage());
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                () -> SoftTargetKl.withTemperature(1).compute(LossInput.of(matrix(new double[][] {{Double.NaN, 1}})).teacherLogits(s).build()));
        assertTrue(e3.getMessage().contains("student_logits must be finite, got NaN at row 0, class 0"), e3.getMessage());
        IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class,
                () -> SoftTargetKl.withTemperature(1).compute(LossInput.of(s).build()));
        assertTrue(e4.getMessage().contains("requires teacher_logits"), e4.getMessage());
    }

    @Test
    void givenLinearSchedule_whenEpochAdvances_thenTemperatureMovesFromStartToEnd() {
        TemperatureSchedule sched = new TemperatureSchedule(TemperatureSchedule.Kind.LINEAR, 8.0, 2.0, 10.0);
        assertEquals(8.0, sched.at(1.0), 1e-12);
        assertEquals(5.0, sched.at(6.0), 1e-12); // 8 + (2 - 8) * 0.5
        assertEquals(2.0, sched.at(30.0), 1e-12);
        TemperatureSchedule cos = new TemperatureSchedule(TemperatureSchedule.Kind.COSINE, 8.0, 2.0, 10.0);
        assertEquals(5.0, cos.at(6.0), 1e-12); // 2 + 6 * (1 + cos(pi/2)) / 2
        INDArray s = matrix(new double[][] {{0.3, -0.2, 1.0}});
        INDArray t = matrix(new double[][] {{1.3, 0.2, -1.0}});
        double scheduled = new SoftTargetKl(sched).compute(LossInput.of(s).teacherLogits(t).epoch(6.0).build()).value();
        double fixed = SoftTargetKl.withTemperature(5.0).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(fixed, scheduled, 1e-12);
    }

    @Test
    void givenCatalogueName_whenCreatedWithParams_thenSameAsConstructor() {
        var fromCatalogue = LossCatalogue.create("softtargetkl", Map.of("temperature", "2.5"));
        assertEquals("SoftTargetKl(temperature=2.5)", fromCatalogue.describe());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("SoftTargetKl", Map.of("temp", "2")));
        assertTrue(e.getMessage().contains("unknown parameter [temp] for loss SoftTargetKl; valid parameters: [temperature"),
                e.getMessage());
    }
}
