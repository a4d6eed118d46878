package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static io.kd4j.losses.testing.LossChecks.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NkdTest {

    /**
     * cls_KD {@code NKDLoss.forward} written plainly: {@code -(t_t * s_t).mean() - gamma T²
     * mean(sum(softmax(t_non/T) * log_softmax(s_non/T)))}, non-target columns by dropping the label.
     */
    static double referenceNkd(double[][] s, double[][] t, int[] y, double temp, double gamma) {
        int n = s.length;
        int c = s[0].length;
        double lossT = 0;
        double lossNon = 0;
        for (int i = 0; i < n; i++) {
            double[] q = Reference.softmax(s[i], 1);
            double[] p = Reference.softmax(t[i], 1);
            lossT += p[y[i]] * Math.log(q[y[i]]);
            double[] sNon = new double[c - 1];
            double[] tNon = new double[c - 1];
            for (int j = 0, k = 0; j < c; j++) {
                if (j != y[i]) {
                    sNon[k] = s[i][j];
                    tNon[k++] = t[i][j];
                }
            }
            double[] qn = Reference.softmax(sNon, temp);
            double[] pn = Reference.softmax(tNon, temp);
            for (int k = 0; k < c - 1; k++) {
                lossNon += pn[k] * Math.log(qn[k]);
            }
        }
        return -lossT / n - gamma * temp * temp * lossNon / n;
    }

    @Test
    void givenThreeClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // Given student [0, 0, 0], teacher [ln 4, ln 3, 0], label 0, T = 1, gamma = 1.5:
        // p = [1/2, 3/8, 1/8], q = [1/3, 1/3, 1/3]; target: -p_0 ln q_0 = 1/2 ln 3 = 0.5493061
        // p^ = [3/4, 1/4], q^ = [1/2, 1/2]; non-target: -1.5 (3/4 ln 1/2 + 1/4 ln 1/2) = 1.5 ln 2 = 1.0397208
        // L = 1.5890269
        // grad_0 = p_0 (q_0 - 1) = -1/3; grad_1 = 1/2 * 1/3 + 1.5 (1/2 - 3/4) = 1/6 - 3/8;
        // grad_2 = 1/6 + 1.5 (1/2 - 1/4) = 1/6 + 3/8
        INDArray s = matrix(new double[][] {{0, 0, 0}});
        INDArray t = matrix(new double[][] {{Math.log(4), Math.log(3), 0}});
        LossResult r = Nkd.of(1.0, 1.5).compute(LossInput.of(s).teacherLogits(t).labels(vector(0)).build());
        assertEquals(0.5 * Math.log(3) + 1.5 * Math.log(2), r.value(), 1e-12);
        assertEquals(1.5890269, r.value(), 1e-7);
        assertEquals(0.5 * Math.log(3), r.terms().get("target"), 1e-12);
        assertEquals(1.5 * Math.log(2), r.terms().get("nonTarget"), 1e-12);
        assertEquals(-1.0 / 3, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(1.0 / 6 - 3.0 / 8, r.studentGradient().getDouble(0, 1), 1e-12);
        assertEquals(1.0 / 6 + 3.0 / 8, r.studentGradient().getDouble(0, 2), 1e-12);
    }

    @ParameterizedTest
    @CsvSource({"1.0, 1.5", "2.0, 1.5", "4.0, 0.5"})
    void givenRandomLogits_whenComputed_thenEqualsClsKdNkdLoss(double temp, double gamma) {
        Random rnd = new Random(67);
        INDArray s = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray t = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray y = LossChecks.randomLabels(rnd, 10, 6);
        double expected = referenceNkd(s.toDoubleMatrix(), t.toDoubleMatrix(), y.toIntVector(), temp, gamma);
        LossResult r = Nkd.of(temp, gamma).compute(LossInput.of(s).teacherLogits(t).labels(y).build());
        assertEquals(expected, r.value(), 1e-12);
        assertEquals(r.value(), r.terms().get("target") + r.terms().get("nonTarget"), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double temp) {
        // The teacher's target probability is detached, and it depends on teacher logits only, so the
        // gradient with respect to the student is the full derivative.
        Random rnd = new Random(71);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 4);
        assertGradientMatchesFiniteDifferences(Nkd.of(temp, 1.5), s, b -> b.teacherLogits(t).labels(y));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenTokenMeanAndGradientMatchesFiniteDifferences() {
        Random rnd = new Random(73);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray y = LossChecks.randomLabels(rnd, 4, 2, 3);
        INDArray mask = matrix(new double[][] {{0, 1, 1}, {1, 1, 1}});
        Nkd loss = Nkd.of(2.0, 1.5);
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).labels(y).mask(mask).build());
        double[][] sRows = new double[5][4];
        double[][] tRows = new double[5][4];
        int[] yRows = new int[5];
        int k = 0;
        for (int b = 0; b < 2; b++) {
            for (int step = 0; step < 3; step++) {
                if (mask.getDouble(b, step) == 1) {
                    for (int c = 0; c < 4; c++) {
                        sRows[k][c] = s.getDouble(b, c, step);
                        tRows[k][c] = t.getDouble(b, c, step);
                    }
                    yRows[k++] = (int) y.getDouble(b, step);
                }
            }
        }
        assertEquals(referenceNkd(sRows, tRows, yRows, 2.0, 1.5), r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 0), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).labels(y).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenNonTargetGradientZeroAndValueIsEntropyForm() {
        // Not a divergence: at s = t, L = -p_y ln p_y + gamma T² H(p^), and dL/ds = p_y (p - e_y) / n
        double[][] logits = {{0.3, -1.2, 2.0, 0.5}};
        INDArray s = matrix(logits);
        double temp = 2.0;
        LossResult r = Nkd.of(temp, 1.5).compute(LossInput.of(s).teacherLogits(s.dup()).labels(vector(2)).build());
        double[] p = Reference.softmax(logits[0], 1);
        double[] pn = Reference.softmax(new double[] {0.3, -1.2, 0.5}, temp);
        double entropy = 0;
        for (double v : pn) {
            entropy -= v * Math.log(v);
        }
        assertEquals(-p[2] * Math.log(p[2]) + 1.5 * temp * temp * entropy, r.value(), 1e-12);
        for (int j = 0; j < 4; j++) {
            assertEquals(p[2] * (p[j] - (j == 2 ? 1 : 0)), r.studentGradient().getDouble(0, j), 1e-12);
        }
    }

    @Test
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependentAndRowsSumToZero() {
        Random rnd = new Random(79);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 3);
        Nkd loss = Nkd.of(1.0, 1.5);
        LossResult one = loss.compute(LossInput.of(s).teacherLogits(t).labels(y).build());
        LossResult twice = loss.compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t))
                .labels(Nd4j.concat(0, y, y)).build());
        assertEquals(one.value(), twice.value(), 1e-12);
        assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}});
        LossResult r = Nkd.of(1.0, 1.5).compute(LossInput.of(s).teacherLogits(t).labels(vector(1, 0)).build());
        assertTrue(Double.isFinite(r.value()));
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenBuiltOrComputed_thenClearErrors() {
        assertEquals("temperature must be > 0 and finite, got -1.0", assertThrows(IllegalArgumentException.class,
                () -> Nkd.of(-1.0, 1.5)).getMessage());
        assertEquals("nonTargetWeight must be >= 0 and finite, got -0.5", assertThrows(IllegalArgumentException.class,
                () -> Nkd.of(1.0, -0.5)).getMessage());
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        Nkd loss = Nkd.of(1.0, 1.5);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1}})).labels(vector(0)).build()));
        assertTrue(shape.getMessage().contains("teacher_logits shape [1, 2] must equal student_logits shape [1, 3]"),
                shape.getMessage());
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherLogits(s).labels(vector(-1)).build()));
        assertTrue(label.getMessage().contains("labels must be class indices in [0, 3), got -1.0"), label.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(matrix(new double[][] {{Double.NaN, 1, 2}})).teacherLogits(s).labels(vector(0)).build()));
        assertTrue(nan.getMessage().contains("student_logits must be finite, got NaN at row 0, class 0"),
                nan.getMessage());
        IllegalArgumentException noLabels = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherLogits(s).build()));
        assertTrue(noLabels.getMessage().contains("Nkd: requires labels"), noLabels.getMessage());
    }

    @Test
    void givenCatalogue_whenCreatedAndDescribed_thenDefaultsAndRoundTrip() {
        assertEquals("Nkd(temperature=1.0, nonTargetWeight=1.5)", LossCatalogue.create("nkd").describe());
        String custom = "Nkd(temperature=2.0, nonTargetWeight=0.5)";
        assertEquals(custom, LossCatalogue.create("Nkd", Map.of("temperature", "2", "nonTargetWeight", "0.5"))
                .describe());
        assertEquals("1.0*CrossEntropy + 1.0*" + custom, Objective.parse("CrossEntropy + " + custom).describe());
    }
}
