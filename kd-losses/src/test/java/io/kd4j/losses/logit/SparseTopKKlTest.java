package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.DivergenceReference;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SparseTopKKlTest {

    private static LossResult run(SparseTopKKl loss, INDArray s, TopKTeacher top) {
        return loss.compute(LossInput.of(s).teacherTopK(top).build());
    }

    @Test
    void givenTopOneOfThree_whenComputed_thenMatchesHandArithmetic() {
        // Teacher p = [1/2, 1/4, 1/4] keeps class 0 only: lp = ln(1/2), r = 1/2.
        // Student logits [0, 0, 0]: q = 1/3 each, q_rest = 2/3. T = 1.
        // KL = 1/2 ln((1/2)/(1/3)) + 1/2 ln((1/2)/(2/3)) = 0.5(0.4054651) + 0.5(-0.2876821) = 0.0588915
        // dL/ds_0 = q_0 - p_0 = 1/3 - 1/2 = -1/6; dL/ds_j = q_j - r q_j / q_rest = 1/3 - 1/4 = 1/12 (j = 1, 2)
        TopKTeacher top = new TopKTeacher(matrix(new double[][] {{0}}), matrix(new double[][] {{Math.log(0.5)}}));
        LossResult r = run(SparseTopKKl.withTemperature(1.0), matrix(new double[][] {{0, 0, 0}}), top);
        assertEquals(0.0588915, r.value(), 1e-7);
        assertEquals(-1.0 / 6, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(1.0 / 12, r.studentGradient().getDouble(0, 1), 1e-12);
        assertEquals(1.0 / 12, r.studentGradient().getDouble(0, 2), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 2.0, 4.0})
    void givenTopThreeOfEight_whenComputed_thenEqualsDistillKitSymmetricUniformTimesTSquared(double temp) {
        Random rnd = new Random(67);
        INDArray s = LossChecks.randomLogits(rnd, 4, 5, 8);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 4, 5, 8), 3, temp);
        double expected = 0;
        for (int b = 0; b < 5; b++) {
            expected += DivergenceReference.sparseKl(DivergenceChecks.topIndices(top, b, 0),
                    DivergenceChecks.topLogProbs(top, b, 0), DivergenceChecks.row(s, b, 0), temp);
        }
        assertEquals(expected / 5, run(SparseTopKKl.withTemperature(temp), s, top).value(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 4.0})
    void givenKEqualsVocabulary_whenComputed_thenExactlySoftTargetKl(double temp) {
        Random rnd = new Random(71);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 6);
        LossResult sparse = run(SparseTopKKl.withTemperature(temp), s, DivergenceChecks.topKOf(t, 6, temp));
        LossResult dense = SoftTargetKl.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(dense.value(), sparse.value(), 1e-12);
        for (int i = 0; i < 24; i++) {
            assertEquals(dense.studentGradient().getDouble(i), sparse.studentGradient().getDouble(i), 1e-12);
        }
    }

    @Test
    void givenTeacherStoredAtTemperatureOne_whenTeacherTemperatureSet_thenRetemperedToLossTemperature() {
        Random rnd = new Random(73);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 6);
        // k = V: re-tempering p^(1/T) and renormalising is exactly softmax(t / T)
        SparseTopKKl retempered = new SparseTopKKl(io.kd4j.losses.api.TemperatureSchedule.constant(4.0), 1.0);
        double dense = SoftTargetKl.withTemperature(4.0).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(dense, run(retempered, s, DivergenceChecks.topKOf(t, 6, 1.0)).value(), 1e-12);
        // k < V: p'_i = p_i^a / (sum_j p_j^a + r^a), r' = r^a / (...), a = T_g / T (DistillKit SYMMETRIC_UNIFORM)
        TopKTeacher top = DivergenceChecks.topKOf(t, 2, 1.0);
        double expected = 0;
        for (int b = 0; b < 4; b++) {
            double[] lp = DivergenceChecks.topLogProbs(top, b, 0);
            double r = 1 - Math.exp(lp[0]) - Math.exp(lp[1]);
            double z = Math.pow(Math.exp(lp[0]), 0.25) + Math.pow(Math.exp(lp[1]), 0.25) + Math.pow(r, 0.25);
            double[] lp2 = {Math.log(Math.pow(Math.exp(lp[0]), 0.25) / z), Math.log(Math.pow(Math.exp(lp[1]), 0.25) / z)};
            expected += DivergenceReference.sparseKl(DivergenceChecks.topIndices(top, b, 0), lp2,
                    DivergenceChecks.row(s, b, 0), 4.0);
        }
        assertEquals(expected / 4, run(retempered, s, top).value(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 3.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        Random rnd = new Random(79);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 7);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 3, 7), 3, temp);
        LossChecks.assertGradientMatchesFiniteDifferences(SparseTopKKl.withTemperature(temp), s, b -> b.teacherTopK(top));
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanAndGradientMatch() {
        Random rnd = new Random(83);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 5, 3);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 2, 5, 3), 2, 2.0);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {0, 1, 1}});
        SparseTopKKl loss = SparseTopKKl.withTemperature(2.0);
        LossResult r = loss.compute(LossInput.of(s).teacherTopK(top).mask(mask).build());
        int[][] valid = {{0, 0}, {0, 2}, {1, 1}, {1, 2}};
        double expected = 0;
        for (int[] bt : valid) {
            expected += DivergenceReference.sparseKl(DivergenceChecks.topIndices(top, bt[0], bt[1]),
                    DivergenceChecks.topLogProbs(top, bt[0], bt[1]), DivergenceChecks.row(s, bt[0], bt[1]), 2.0);
        }
        assertEquals(expected / 4, r.value(), 1e-12);
        for (int c = 0; c < 5; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 1), 0.0);
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 0), 0.0);
        }
        LossChecks.assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherTopK(top).mask(mask));
    }

    @Test
    void givenTeacherIsStudentTopK_whenComputed_thenZeroValueAndGradient() {
        INDArray s = LossChecks.randomLogits(new Random(89), 4, 3, 7);
        LossResult r = run(SparseTopKKl.withTemperature(2.0), s, DivergenceChecks.topKOf(s, 3, 2.0));
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBatchRepeated_whenComputed_thenBatchSizeIndependentAndRowsSumToZero() {
        Random rnd = new Random(97);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 6);
        TopKTeacher top = DivergenceChecks.topKOf(LossChecks.randomLogits(rnd, 3, 3, 6), 2, 1.0);
        TopKTeacher top2 = new TopKTeacher(Nd4j.vstack(top.indices(), top.indices()),
                Nd4j.vstack(top.logProbs(), top.logProbs()));
        LossResult one = run(SparseTopKKl.withTemperature(1.0), s, top);
        LossResult twice = run(SparseTopKKl.withTemperature(1.0), Nd4j.vstack(s, s), top2);
        assertEquals(one.value(), twice.value(), 1e-12);
        assertTrue(one.value() > 0);
        LossChecks.assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenExtremeFloat32LogitsAndVanishingMasses_whenComputed_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f, -1e4f}, {-1e4f, 1e4f, 3f, 1e4f}});
        // row 0: teacher all mass on class 1 (r = 0, and q_1 = exp(-2e4)); row 1: r = 1 - e^-0.001 while the
        // student's mass outside {0, 2} is ~1 (q_rest = 1) and inside is ~exp(-2e4)
        TopKTeacher top = new TopKTeacher(Nd4j.create(new float[][] {{1f, 2f}, {0f, 2f}}),
                Nd4j.create(new float[][] {{0f, -2e4f}, {-0.001f, -1e4f}}));
        LossResult r = run(SparseTopKKl.withTemperature(1.0), s, top);
        assertTrue(Double.isFinite(r.value()), "value " + r.value());
        LossChecks.assertFinite(r.studentGradient(), "gradient");
        // row 1 tail: student mass outside the top-k vanishes -> r log(r / q_rest) must stay finite
        TopKTeacher top3 = new TopKTeacher(Nd4j.create(new float[][] {{0f, 3f}}), Nd4j.create(new float[][] {{-1f, -1f}}));
        LossResult r3 = run(SparseTopKKl.withTemperature(1.0), Nd4j.create(new float[][] {{1e4f, -1e4f, -1e4f, 1e4f}}), top3);
        assertTrue(Double.isFinite(r3.value()) && r3.value() > 1e3, "value " + r3.value());
        LossChecks.assertFinite(r3.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        assertEquals("teacherTemperature must be >= 0 and finite, got -1.0", assertThrows(IllegalArgumentException.class,
                () -> new SparseTopKKl(io.kd4j.losses.api.TemperatureSchedule.constant(1.0), -1.0)).getMessage());
        assertEquals("temperature must be > 0 and finite, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> SparseTopKKl.withTemperature(0.0)).getMessage());
        SparseTopKKl loss = SparseTopKKl.withTemperature(1.0);
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        assertMessage(loss, s, null, "requires a top-k teacher");
        assertMessage(loss, s, new TopKTeacher(matrix(new double[][] {{5}}), matrix(new double[][] {{-1}})),
                "teacher_topk_indices must be integers in [0, 3), got 5.0 at row 0");
        assertMessage(loss, s, new TopKTeacher(matrix(new double[][] {{1}}), matrix(new double[][] {{Double.NaN}})),
                "teacher_topk_logprobs must be log-probabilities (<= 0, not NaN), got NaN at row 0");
        assertMessage(loss, s, new TopKTeacher(matrix(new double[][] {{0, 1}}), matrix(new double[][] {{-0.1, -0.1}})),
                "teacher top-k probabilities must sum to <= 1");
        assertMessage(loss, s, new TopKTeacher(matrix(new double[][] {{0}, {1}}), matrix(new double[][] {{-1}, {-1}})),
                "teacher_topk_indices shape [2, 1] must be [1, 1]");
        assertMessage(loss, matrix(new double[][] {{0, Double.NaN, 2}}),
                new TopKTeacher(matrix(new double[][] {{1}}), matrix(new double[][] {{-1}})),
                "student_logits must be finite, got NaN at row 0, class 1");
    }

    private static void assertMessage(SparseTopKKl loss, INDArray s, TopKTeacher top, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherTopK(top).build()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultsAndDescribeRoundTrip() {
        assertEquals("SparseTopKKl(temperature=1.0)", LossCatalogue.create("SparseTopKKl").describe());
        var withTeacherT = LossCatalogue.create("sparsetopkkl", Map.of("temperature", "2", "teacherTemperature", "1"));
        assertEquals("SparseTopKKl(temperature=2.0, teacherTemperature=1.0)", withTeacherT.describe());
        DivergenceChecks.assertDescribeRoundTrips(withTeacherT);
    }
}
