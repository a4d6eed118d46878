package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static io.kd4j.losses.testing.LossChecks.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DkdTest {

    private static Dkd dkd(double alpha, double beta, double temperature, double warmup) {
        return new Dkd(alpha, beta, TemperatureSchedule.constant(temperature), warmup);
    }

    /**
     * mdistiller {@code dkd_loss} written plainly from the PyTorch code: torch-style (max-shifted)
     * softmax, {@code cat_mask}, {@code torch.log}, {@code kl_div(size_average=False)} (0 where the
     * target is 0), {@code -1000 * gt_mask} for the non-target part, {@code T² / batch}.
     */
    static double mdistillerDkd(INDArray s, INDArray t, int[] y, double alpha, double beta, double temp) {
        int n = (int) s.size(0);
        int c = (int) s.size(1);
        double tckd = 0;
        double nckd = 0;
        for (int i = 0; i < n; i++) {
            double[] zs = new double[c];
            double[] zt = new double[c];
            double[] zs2 = new double[c];
            double[] zt2 = new double[c];
            for (int j = 0; j < c; j++) {
                zs[j] = s.getDouble(i, j) / temp;
                zt[j] = t.getDouble(i, j) / temp;
                zs2[j] = zs[j] - (j == y[i] ? 1000.0 : 0.0);
                zt2[j] = zt[j] - (j == y[i] ? 1000.0 : 0.0);
            }
            double[] ps = torchSoftmax(zs);
            double[] pt = torchSoftmax(zt);
            double[] bs = {ps[y[i]], 0};
            double[] bt = {pt[y[i]], 0};
            for (int j = 0; j < c; j++) {
                if (j != y[i]) {
                    bs[1] += ps[j];
                    bt[1] += pt[j];
                }
            }
            for (int k = 0; k < 2; k++) {
                tckd += klDiv(Math.log(bs[k]), bt[k]);
            }
            double[] pt2 = torchSoftmax(zt2);
            double[] lps2 = torchLogSoftmax(zs2);
            for (int j = 0; j < c; j++) {
                nckd += klDiv(lps2[j], pt2[j]);
            }
        }
        return alpha * tckd * temp * temp / n + beta * nckd * temp * temp / n;
    }

    /** One element of {@code F.kl_div(input, target)}: {@code target (log target - input)}, 0 at target 0. */
    private static double klDiv(double input, double target) {
        return target > 0 ? target * (Math.log(target) - input) : 0.0;
    }

    private static double[] torchSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[z.length];
        for (int j = 0; j < z.length; j++) {
            e[j] = Math.exp(z[j] - max);
            sum += e[j];
        }
        for (int j = 0; j < z.length; j++) {
            e[j] /= sum;
        }
        return e;
    }

    private static double[] torchLogSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double[] out = new double[z.length];
        for (int j = 0; j < z.length; j++) {
            out[j] = z[j] - max - Math.log(sum);
        }
        return out;
    }

    private static int[] ints(INDArray labels) {
        return labels.toIntVector();
    }

    @Test
    void givenThreeClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // Given student [0, 0, 0], teacher [ln 4, ln 3, 0], label 0, T = 1, alpha = 1, beta = 8, no warm-up:
        // q = [1/3, 1/3, 1/3], b^s = [1/3, 2/3], q^ = [1/2, 1/2]
        // p = [4/8, 3/8, 1/8], b^t = [1/2, 1/2], p^ = [3/4, 1/4]
        // TCKD = 1/2 ln(3/2) + 1/2 ln(3/4) = 1/2 ln(9/8) = 0.0588915
        // NCKD = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.1308120
        // L = 0.0588915 + 8 * 0.1308120 = 1.1053878
        // grad_0 = q_0 - b^t_1 = 1/3 - 1/2 = -1/6
        // grad_1 = q^_1 (b^s_2 - b^t_2) + 8 (q^_1 - p^_1) = 1/2 (1/6) + 8 (-1/4) = 1/12 - 2
        // grad_2 = 1/2 (1/6) + 8 (1/4) = 1/12 + 2
        INDArray s = matrix(new double[][] {{0, 0, 0}});
        INDArray t = matrix(new double[][] {{Math.log(4), Math.log(3), 0}});
        LossResult r = dkd(1, 8, 1, 1).compute(LossInput.of(s).teacherLogits(t).labels(vector(0)).build());
        assertEquals(0.5 * Math.log(9.0 / 8) + 8 * (0.75 * Math.log(1.5) + 0.25 * Math.log(0.5)), r.value(), 1e-12);
        assertEquals(1.1053878, r.value(), 1e-7);
        assertEquals(0.5 * Math.log(9.0 / 8), r.terms().get("tckd"), 1e-12);
        assertEquals(8 * 0.1308120, r.terms().get("nckd"), 1e-6);
        assertEquals(-1.0 / 6, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(1.0 / 12 - 2, r.studentGradient().getDouble(0, 1), 1e-12);
        assertEquals(1.0 / 12 + 2, r.studentGradient().getDouble(0, 2), 1e-12);
    }

    @ParameterizedTest
    @CsvSource({"30.0, 1.0", "20.0, 1.0", "5.0, 0.25", "1.0, 0.05"})
    void givenRandomLogits_whenComputed_thenEqualsMdistillerDkdTimesWarmup(double epoch, double factor) {
        Random rnd = new Random(17);
        INDArray s = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray t = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray y = LossChecks.randomLabels(rnd, 10, 6);
        double expected = factor * mdistillerDkd(s, t, ints(y), 1.0, 8.0, 4.0);
        LossResult r = Dkd.create().compute(LossInput.of(s).teacherLogits(t).labels(y).epoch(epoch).build());
        assertEquals(expected, r.value(), 1e-12);
        assertEquals(factor * mdistillerDkd(s, t, ints(y), 1.0, 0.0, 4.0), r.terms().get("tckd"), 1e-12);
        assertEquals(factor * mdistillerDkd(s, t, ints(y), 0.0, 8.0, 4.0), r.terms().get("nckd"), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0, 10.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        Random rnd = new Random(23);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 4);
        assertGradientMatchesFiniteDifferences(dkd(1.5, 3.0, temp, 10), s, b -> b.teacherLogits(t).labels(y).epoch(4));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenTokenMeanAndGradientMatchesFiniteDifferences() {
        // Given [batch=2, classes=4, time=3] with position (1, 2) masked out
        Random rnd = new Random(29);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray y = LossChecks.randomLabels(rnd, 4, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 1}, {1, 1, 0}});
        Dkd loss = dkd(1, 8, 2, 1);
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).labels(y).mask(mask).build());
        INDArray sRows = Nd4j.create(DataType.DOUBLE, 5, 4);
        INDArray tRows = Nd4j.create(DataType.DOUBLE, 5, 4);
        int[] yRows = new int[5];
        int k = 0;
        for (int b = 0; b < 2; b++) {
            for (int step = 0; step < 3; step++) {
                if (mask.getDouble(b, step) == 1) {
                    for (int c = 0; c < 4; c++) {
                        sRows.putScalar(k, c, s.getDouble(b, c, step));
                        tRows.putScalar(k, c, t.getDouble(b, c, step));
                    }
                    yRows[k++] = (int) y.getDouble(b, step);
                }
            }
        }
        assertEquals(mdistillerDkd(sRows, tRows, yRows, 1, 8, 2), r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 2), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).labels(y).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        Random rnd = new Random(31);
        INDArray s = LossChecks.randomLogits(rnd, 4, 3, 7);
        INDArray y = LossChecks.randomLabels(rnd, 7, 3);
        LossResult r = Dkd.create().compute(LossInput.of(s).teacherLogits(s.dup()).labels(y).epoch(40).build());
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependentAndRowsSumToZero() {
        Random rnd = new Random(37);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 3);
        LossResult one = Dkd.create().compute(LossInput.of(s).teacherLogits(t).labels(y).epoch(25).build());
        LossResult twice = Dkd.create().compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t))
                .labels(Nd4j.concat(0, y, y)).epoch(25).build());
        assertEquals(one.value(), twice.value(), 1e-12);
        assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFiniteWhereMdistillerFormulaIsNot() {
        // Given logits of ±1e4: softmax(s/T) underflows to an exact 0 for the target class of row 0,
        // so mdistiller's torch.log(pred_student) is -inf and its TCKD is inf.
        INDArray s = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}});
        INDArray t = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}});
        INDArray y = vector(0, 2);
        double reference = mdistillerDkd(s.castTo(DataType.DOUBLE), t.castTo(DataType.DOUBLE), new int[] {0, 2}, 1, 8, 4);
        assertFalse(Double.isFinite(reference), "mdistiller's formula overflows here, got " + reference);
        LossResult r = Dkd.create().compute(LossInput.of(s).teacherLogits(t).labels(y).epoch(20).build());
        assertTrue(Double.isFinite(r.value()), "value " + r.value());
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenTargetMarginAbove1000_whenComputed_thenNonTargetPartExcludesTargetExactlyUnlikeMinus1000Trick() {
        // Given teacher [3000, 1, 0], student [0, 2, 1], label 0, T = 1: the non-target parts are
        // softmax([1, 0]) and softmax([2, 1]), equal distributions, so NCKD = 0 exactly.
        // mdistiller's softmax([3000 - 1000, 1, 0]) still puts all mass on the target class.
        INDArray s = matrix(new double[][] {{0, 2, 1}});
        INDArray t = matrix(new double[][] {{3000, 1, 0}});
        LossResult r = dkd(0, 1, 1, 1).compute(LossInput.of(s).teacherLogits(t).labels(vector(0)).build());
        assertEquals(0.0, r.terms().get("nckd"), 1e-12);
        assertTrue(mdistillerDkd(s, t, new int[] {0}, 0, 1, 1) > 1000, "the -1000 trick leaves the target class in");
    }

    @Test
    void givenBadHyperparameters_whenConstructed_thenExactMessages() {
        assertMessage("targetWeight must be >= 0 and finite, got -1.0", () -> dkd(-1, 8, 4, 20));
        assertMessage("nonTargetWeight must be >= 0 and finite, got NaN", () -> dkd(1, Double.NaN, 4, 20));
        assertMessage("temperature must be > 0 and finite, got 0.0", () -> dkd(1, 8, 0, 20));
        assertMessage("warmupEpochs must be > 0 and finite, got 0.0", () -> dkd(1, 8, 4, 0));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        Dkd loss = Dkd.create();
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1}})).labels(vector(0)).build()));
        assertTrue(shape.getMessage().contains("teacher_logits shape [1, 2] must equal student_logits shape [1, 3]"),
                shape.getMessage());
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherLogits(s).labels(vector(3)).build()));
        assertTrue(label.getMessage().contains("labels must be class indices in [0, 3), got 3.0"), label.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, Double.NaN, 2}})).labels(vector(0)).build()));
        assertTrue(nan.getMessage().contains("teacher_logits must be finite, got NaN at row 0, class 1"),
                nan.getMessage());
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(matrix(new double[][] {{1}})).teacherLogits(matrix(new double[][] {{1}}))
                        .labels(vector(0)).build()));
        assertEquals("Dkd: needs at least 2 classes (a target and a non-target), got 1", one.getMessage());
    }

    @Test
    void givenCatalogue_whenCreatedAndDescribed_thenDefaultsAndRoundTrip() {
        String described = "Dkd(targetWeight=1.0, nonTargetWeight=8.0, temperature=4.0, warmupEpochs=20.0)";
        assertEquals(described, LossCatalogue.create("dkd").describe());
        assertEquals("1.0*" + described, Objective.parse(described).describe());
        String standardized = "Dkd(targetWeight=9.0, nonTargetWeight=72.0, temperature=2.0, warmupEpochs=20.0, "
                + "standardize=true)";
        var ls = LossCatalogue.create("Dkd", Map.of("targetWeight", "9", "nonTargetWeight", "72",
                "temperature", "2", "standardize", "true"));
        assertTrue(ls instanceof StandardizedLogits);
        assertEquals(standardized, ls.describe());
        assertEquals("0.5*" + standardized, Objective.parse("0.5*" + standardized).describe());
    }

    private static void assertMessage(String expected, Executable e) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, e).getMessage());
    }
}
