package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static io.kd4j.losses.testing.LossChecks.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class WsldTest {

    /** The reference's per-row weights from {@code fc_s.detach()}, {@code fc_t.detach()} and the labels. */
    static double[] referenceWeights(double[][] s, double[][] t, int[] y) {
        double[] w = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            double ceS = -Math.log(Reference.softmax(s[i], 1)[y[i]]);
            double ceT = -Math.log(Reference.softmax(t[i], 1)[y[i]]);
            w[i] = 1 - Math.exp(-Math.max(ceS / (ceT + 1e-7), 0));
        }
        return w;
    }

    /** {@code WSLDistiller.forward}'s soft_loss: {@code T² mean(w * -sum(softmax(t/T) log_softmax(s/T)))}. */
    static double referenceSoftLoss(double[][] s, double[][] t, double[] w, double temp) {
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            double[] p = Reference.softmax(t[i], temp);
            double[] q = Reference.softmax(s[i], temp);
            double ce = 0;
            for (int j = 0; j < p.length; j++) {
                ce -= p[j] * Math.log(q[j]);
            }
            sum += w[i] * ce;
        }
        return temp * temp * sum / s.length;
    }

    @Test
    void givenTwoClassLogits_whenComputed_thenMatchesHandArithmetic() {
        // Given student [0, 0], teacher [ln 3, 0], label 0, T = 1:
        // CE_s = ln 2 = 0.6931472, CE_t = -ln(3/4) = 0.2876821, ratio = 2.4094200
        // w = 1 - exp(-2.4094200) = 0.9101326
        // soft CE = -(3/4 ln 1/2 + 1/4 ln 1/2) = ln 2; L = 0.9101326 * 0.6931472 = 0.6308558
        // grad = T w (q - p) = 0.9101326 * [1/2 - 3/4, 1/2 - 1/4] = [-0.2275331, 0.2275331]
        INDArray s = matrix(new double[][] {{0, 0}});
        INDArray t = matrix(new double[][] {{Math.log(3), 0}});
        LossResult r = Wsld.withTemperature(1).compute(LossInput.of(s).teacherLogits(t).labels(vector(0)).build());
        double w = 1 - Math.exp(-Math.log(2) / (-Math.log(0.75) + 1e-7));
        assertEquals(w * Math.log(2), r.value(), 1e-12);
        assertEquals(0.6308558, r.value(), 1e-7);
        assertEquals(-0.2275331, r.studentGradient().getDouble(0, 0), 1e-7);
        assertEquals(0.2275331, r.studentGradient().getDouble(0, 1), 1e-7);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 2.0, 4.0})
    void givenRandomLogits_whenComputed_thenEqualsWsldDistillerSoftLoss(double temp) {
        Random rnd = new Random(83);
        INDArray s = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray t = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray y = LossChecks.randomLabels(rnd, 10, 6);
        double[][] sm = s.toDoubleMatrix();
        double[][] tm = t.toDoubleMatrix();
        double expected = referenceSoftLoss(sm, tm, referenceWeights(sm, tm, y.toIntVector()), temp);
        LossResult r = Wsld.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).labels(y).build());
        assertEquals(expected, r.value(), 1e-12);
    }

    /**
     * The loss with the sample weights frozen at {@code frozenStudent} (as the reference detaches them):
     * value from the independent reference, gradient from Wsld. The finite-difference check uses the
     * gradient at the unperturbed input only, so this checks Wsld's gradient against d/ds of the
     * detached-weight objective.
     */
    private static DistillationLoss frozenWeights(Wsld wsld, INDArray frozenStudent, INDArray t, INDArray y,
                                                  INDArray mask, double temp) {
        return new DistillationLoss() {
            @Override
            public String name() {
                return "Wsld(frozen weights)";
            }

            @Override
            public Map<String, Object> hyperparameters() {
                return Map.of();
            }

            @Override
            public Set<InputKind> requiredInputs() {
                return wsld.requiredInputs();
            }

            @Override
            public LossResult compute(LossInput input) {
                double[][] s0 = rowsOf(frozenStudent, mask);
                double[][] s = rowsOf(input.studentLogits(), mask);
                double[][] tr = rowsOf(t, mask);
                int[] yr = labelsOf(y, mask);
                double value = referenceSoftLoss(s, tr, referenceWeights(s0, tr, yr), temp);
                return new LossResult(value, wsld.compute(input).studentGradient());
            }
        };
    }

    private static double[][] rowsOf(INDArray a, INDArray mask) {
        if (a.rank() == 2) {
            return a.toDoubleMatrix();
        }
        int valid = mask.sumNumber().intValue();
        double[][] out = new double[valid][(int) a.size(1)];
        for (int b = 0, k = 0; b < a.size(0); b++) {
            for (int step = 0; step < a.size(2); step++) {
                if (mask.getDouble(b, step) == 1) {
                    for (int c = 0; c < a.size(1); c++) {
                        out[k][c] = a.getDouble(b, c, step);
                    }
                    k++;
                }
            }
        }
        return out;
    }

    private static int[] labelsOf(INDArray y, INDArray mask) {
        if (mask == null) {
            return y.toIntVector();
        }
        int[] out = new int[mask.sumNumber().intValue()];
        for (int b = 0, k = 0; b < y.size(0); b++) {
            for (int step = 0; step < y.size(1); step++) {
                if (mask.getDouble(b, step) == 1) {
                    out[k++] = (int) y.getDouble(b, step);
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 2.0, 4.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferencesOfDetachedWeightObjective(double temp) {
        Random rnd = new Random(89);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 4);
        Wsld wsld = Wsld.withTemperature(temp);
        UnaryOperator<LossInput.Builder> with = b -> b.teacherLogits(t).labels(y);
        assertGradientMatchesFiniteDifferences(frozenWeights(wsld, s.dup(), t, y, null, temp), s, with);
        // and the weight is really detached: the full derivative through w differs
        LossResult base = wsld.compute(with.apply(LossInput.of(s)).build());
        INDArray plus = s.dup();
        plus.putScalar(0, 0, s.getDouble(0, 0) + 1e-6);
        INDArray minus = s.dup();
        minus.putScalar(0, 0, s.getDouble(0, 0) - 1e-6);
        double full = (wsld.compute(with.apply(LossInput.of(plus)).build()).value()
                - wsld.compute(with.apply(LossInput.of(minus)).build()).value()) / 2e-6;
        assertTrue(Math.abs(full - base.studentGradient().getDouble(0, 0)) > 1e-4,
                "full derivative " + full + " vs detached " + base.studentGradient().getDouble(0, 0));
    }

    @Test
    void givenSequenceWithMask_whenGradientChecked_thenMatchesDetachedObjectiveAndMaskedIsZero() {
        Random rnd = new Random(97);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray y = LossChecks.randomLabels(rnd, 4, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 0}, {1, 0, 1}});
        Wsld wsld = Wsld.withTemperature(2);
        LossResult r = wsld.compute(LossInput.of(s).teacherLogits(t).labels(y).mask(mask).build());
        double[][] sr = rowsOf(s, mask);
        double[][] tr = rowsOf(t, mask);
        assertEquals(referenceSoftLoss(sr, tr, referenceWeights(sr, tr, labelsOf(y, mask)), 2), r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 2), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(frozenWeights(wsld, s.dup(), t, y, mask, 2), s,
                b -> b.teacherLogits(t).labels(y).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroGradientAndWeightedEntropyValue() {
        // A cross-entropy: at s = t the value is T² w H(p) with w = 1 - exp(-CE/(CE + 1e-7)), gradient 0
        double[][] logits = {{0.3, -1.2, 2.0}};
        INDArray s = matrix(logits);
        LossResult r = Wsld.withTemperature(2).compute(LossInput.of(s).teacherLogits(s.dup()).labels(vector(1)).build());
        double[] p = Reference.softmax(logits[0], 2);
        double h = 0;
        for (double v : p) {
            h -= v * Math.log(v);
        }
        double ce = -Math.log(Reference.softmax(logits[0], 1)[1]);
        assertEquals(4 * (1 - Math.exp(-ce / (ce + 1e-7))) * h, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependentAndRowsSumToZero() {
        Random rnd = new Random(101);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 3);
        Wsld loss = Wsld.withTemperature(2);
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
        LossResult r = Wsld.withTemperature(2).compute(LossInput.of(s).teacherLogits(t).labels(vector(1, 1)).build());
        assertTrue(Double.isFinite(r.value()));
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenBuiltOrComputed_thenClearErrors() {
        assertEquals("temperature must be > 0 and finite, got Infinity", assertThrows(IllegalArgumentException.class,
                () -> Wsld.withTemperature(Double.POSITIVE_INFINITY)).getMessage());
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        Wsld loss = Wsld.withTemperature(2);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1}})).labels(vector(0)).build()));
        assertTrue(shape.getMessage().contains("teacher_logits shape [1, 2] must equal student_logits shape [1, 3]"),
                shape.getMessage());
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherLogits(s).labels(vector(1.5)).build()));
        assertTrue(label.getMessage().contains("labels must be class indices in [0, 3), got 1.5"), label.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1, Double.NaN}})).labels(vector(0)).build()));
        assertTrue(nan.getMessage().contains("teacher_logits must be finite, got NaN at row 0, class 2"),
                nan.getMessage());
    }

    @Test
    void givenCatalogue_whenCreatedAndDescribed_thenDefaultsAndRoundTrip() {
        assertEquals("Wsld(temperature=2.0)", LossCatalogue.create("wsld").describe());
        String recipe = "1.0*CrossEntropy + 2.5*Wsld(temperature=2.0)";
        assertEquals(recipe, Objective.parse("CrossEntropy + 2.5*Wsld").describe());
        assertEquals(recipe, Objective.parse(recipe).describe());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LossCatalogue.create("Wsld", Map.of("alpha", "2")))
                .getMessage().contains("unknown parameter [alpha] for loss Wsld"));
    }
}
