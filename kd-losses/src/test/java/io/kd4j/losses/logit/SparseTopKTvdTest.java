package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.api.TopKTeacher;
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
import org.nd4j.linalg.factory.Nd4j;

class SparseTopKTvdTest {

    private static LossResult run(SparseTopKTvd loss, INDArray s, TopKTeacher top) {
        return loss.compute(LossInput.of(s).teacherTopK(top).build());
    }

    @Test
    void givenTopOneOfThree_whenComputed_thenMatchesHandArithmetic() {
        // Teacher keeps class 0 with p_0 = 1/2 (r = 1/2); student [0, 0, 0]: q = 1/3 each, q_rest = 2/3.
        // TVD = 0.5 (|1/2 - 1/3| + |1/2 - 2/3|) = 0.5 (1/6 + 1/6) = 1/6
        // Here L = 0.5 ((1/2 - q_0) + (q_rest - 1/2)) = 0.5 - q_0, so dL/ds_0 = -q_0 (1 - q_0) = -2/9
        // and dL/ds_j = q_0 q_j = 1/9 (j = 1, 2)
        TopKTeacher top = new TopKTeacher(matrix(new double[][] {{0}}), matrix(new double[][] {{Math.log(0.5)}}));
        LossResult r = run(SparseTopKTvd.withTemperature(1.0), matrix(new double[][] {{0, 0, 0}}), top);
        assertEquals(1.0 / 6, r.value(), 1e-12);
        assertEquals(-2.0 / 9, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(1.0 / 9, r.studentGradient().getDouble(0, 1), 1e-12);
        assertEquals(1.0 / 9, r.studentGradient().getDouble(0, 2), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 2.0, 4.0})
    void givenTopThreeOfEight_whenComputed_thenEqualsDistillKitSymmetricUniformWithoutTSquared(double temp) {
        Random rnd = new Random(101);
        INDArray s = LossChecks.randomLogits(rnd, 4, 5, 8);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 4, 5, 8), 3, temp);
        double expected = 0;
        for (int b = 0; b < 5; b++) {
            expected += DivergenceReference.sparseTvd(DivergenceChecks.topIndices(top, b, 0),
                    DivergenceChecks.topLogProbs(top, b, 0), DivergenceChecks.row(s, b, 0), temp);
        }
        assertEquals(expected / 5, run(SparseTopKTvd.withTemperature(temp), s, top).value(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 3.0})
    void givenKEqualsVocabulary_whenComputed_thenEqualsTotalVariation(double temp) {
        Random rnd = new Random(103);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 6);
        LossResult sparse = run(SparseTopKTvd.withTemperature(temp), s, DivergenceChecks.topKOf(t, 6, temp));
        LossResult dense = TotalVariation.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(dense.value(), sparse.value(), 1e-12);
        for (int i = 0; i < 24; i++) {
            assertEquals(dense.studentGradient().getDouble(i), sparse.studentGradient().getDouble(i), 1e-12);
        }
        // stored at T = 1 and re-tempered by teacherTemperature = 1: the same
        LossResult retempered = run(new SparseTopKTvd(TemperatureSchedule.constant(temp), 1.0), s,
                DivergenceChecks.topKOf(t, 6, 1.0));
        assertEquals(dense.value(), retempered.value(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 3.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        Random rnd = new Random(107);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 7);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 3, 7), 3, temp);
        LossChecks.assertGradientMatchesFiniteDifferences(SparseTopKTvd.withTemperature(temp), s, b -> b.teacherTopK(top));
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        Random rnd = new Random(109);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 5, 3);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 2, 5, 3), 2, 1.0);
        INDArray mask = matrix(new double[][] {{0, 1, 1}, {1, 1, 0}});
        SparseTopKTvd loss = SparseTopKTvd.withTemperature(1.0);
        LossResult r = loss.compute(LossInput.of(s).teacherTopK(top).mask(mask).build());
        int[][] valid = {{0, 1}, {0, 2}, {1, 0}, {1, 1}};
        double expected = 0;
        for (int[] bt : valid) {
            expected += DivergenceReference.sparseTvd(DivergenceChecks.topIndices(top, bt[0], bt[1]),
                    DivergenceChecks.topLogProbs(top, bt[0], bt[1]), DivergenceChecks.row(s, bt[0], bt[1]), 1.0);
        }
        assertEquals(expected / 4, r.value(), 1e-12);
        for (int c = 0; c < 5; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 0), 0.0);
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 2), 0.0);
        }
        LossChecks.assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherTopK(top).mask(mask));
    }

    @Test
    void givenTeacherIsStudentTopK_whenComputed_thenZeroValueAndBatchIndependent() {
        INDArray s = LossChecks.randomLogits(new Random(113), 4, 3, 7);
        LossResult zero = run(SparseTopKTvd.withTemperature(1.0), s, DivergenceChecks.topKOf(s, 3, 1.0));
        assertEquals(0.0, zero.value(), 1e-12);
        assertEquals(0.0, zero.studentGradient().amaxNumber().doubleValue(), 1e-12);
        Random rnd = new Random(127);
        INDArray s2 = LossChecks.randomLogits(rnd, 3, 3, 6);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 3, 6), 2, 1.0);
        TopKTeacher top2 = new TopKTeacher(Nd4j.vstack(top.indices(), top.indices()),
                Nd4j.vstack(top.logProbs(), top.logProbs()));
        LossResult one = run(SparseTopKTvd.withTemperature(1.0), s2, top);
        assertEquals(one.value(), run(SparseTopKTvd.withTemperature(1.0), Nd4j.vstack(s2, s2), top2).value(), 1e-12);
        assertTrue(one.value() > 0);
        LossChecks.assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f, -1e4f}, {-1e4f, 1e4f, 3f, 1e4f}});
        TopKTeacher top = new TopKTeacher(Nd4j.create(new float[][] {{1f, 2f}, {0f, 2f}}),
                Nd4j.create(new float[][] {{0f, -2e4f}, {-0.001f, -1e4f}}));
        LossResult r = run(SparseTopKTvd.withTemperature(1.0), s, top);
        assertTrue(Double.isFinite(r.value()) && r.value() <= 1.0, "value " + r.value());
        LossChecks.assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("teacherTemperature must be >= 0 and finite, got NaN", assertThrows(IllegalArgumentException.class,
                () -> new SparseTopKTvd(TemperatureSchedule.constant(1.0), Double.NaN)).getMessage());
        assertEquals("temperature must be > 0 and finite, got -2.0",
                assertThrows(IllegalArgumentException.class, () -> SparseTopKTvd.withTemperature(-2.0)).getMessage());
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> SparseTopKTvd.withTemperature(1.0).compute(LossInput.of(s).build()));
        assertTrue(missing.getMessage().contains("requires a top-k teacher"), missing.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> run(SparseTopKTvd.withTemperature(1.0), s,
                        new TopKTeacher(matrix(new double[][] {{-1}}), matrix(new double[][] {{-1}}))));
        assertTrue(range.getMessage().contains("teacher_topk_indices must be integers in [0, 3), got -1.0 at row 0"),
                range.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> run(SparseTopKTvd.withTemperature(1.0), matrix(new double[][] {{Double.NaN, 1, 2}}),
                        new TopKTeacher(matrix(new double[][] {{0}}), matrix(new double[][] {{-1}}))));
        assertTrue(nan.getMessage().contains("student_logits must be finite, got NaN at row 0, class 0"),
                nan.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultsAndDescribeRoundTrip() {
        assertEquals("SparseTopKTvd(temperature=1.0)", LossCatalogue.create("SparseTopKTvd").describe());
        DivergenceChecks.assertDescribeRoundTrips(
                LossCatalogue.create("sparsetopktvd", Map.of("temperature", "2", "teacherTemperature", "1")));
    }
}
