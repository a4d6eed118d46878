package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static io.kd4j.losses.testing.LossChecks.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class LogitAdjustmentTest {

    private static LossResult compute(DistillationLoss loss, INDArray s, INDArray y) {
        return loss.compute(LossInput.of(s).labels(y).build());
    }

    @Test
    void givenTwoClassesWithCounts3And1_whenComputed_thenMatchesHandArithmetic() {
        // Given s = [0, 0], counts 3 and 1 (pi = 3/4, 1/4), tau = 1, label 1:
        // adjusted logits = [ln 3/4, ln 1/4]; softmax = [3/4, 1/4]
        // L = -ln(1/4) = 1.3862944; grad = [3/4 - 0, 1/4 - 1] = [0.75, -0.75]
        LossResult r = compute(new LogitAdjustment(new long[] {3, 1}, 1.0), matrix(new double[][] {{0, 0}}), vector(1));
        assertEquals(1.3862944, r.value(), 1e-7);
        assertEquals(0.75, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(-0.75, r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @Test
    void givenTauHalf_whenComputed_thenMatchesHandArithmetic() {
        // Given s = [ln 2, 0], counts 4 and 1 (pi = 4/5, 1/5), tau = 0.5, label 0:
        // adjusted = [ln 2 + 0.5 ln 0.8, 0.5 ln 0.2] -> exp = [2 sqrt(0.8), sqrt(0.2)] = [1.7888544, 0.4472136]
        // softmax_0 = 1.7888544 / 2.2360680 = 0.8; L = -ln 0.8 = 0.2231436; grad = [0.8 - 1, 0.2] = [-0.2, 0.2]
        LossResult r = compute(new LogitAdjustment(new long[] {4, 1}, 0.5), matrix(new double[][] {{Math.log(2), 0}}),
                vector(0));
        assertEquals(0.2231436, r.value(), 1e-7);
        assertEquals(-0.2, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(0.2, r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @Test
    void givenTauZero_whenComputed_thenEqualsCrossEntropy() {
        Random rnd = new Random(5);
        INDArray s = LossChecks.randomLogits(rnd, 4, 7, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 7);
        LossResult la = compute(new LogitAdjustment(new long[] {100, 50, 10, 5, 1}, 0.0), s, y);
        LossResult ce = compute(CrossEntropy.create(), s, y);
        assertEquals(ce.value(), la.value(), 1e-12);
        assertEquals(0.0, ce.studentGradient().sub(la.studentGradient()).amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenCountsScaledByAConstant_whenComputed_thenUnchangedBecauseOnlyThePriorMatters() {
        // balanced softmax n_c exp(s_c) / sum_k n_k exp(s_k) equals logit adjustment at tau = 1 for any scale of n
        Random rnd = new Random(6);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 3);
        INDArray y = LossChecks.randomLabels(rnd, 3, 4);
        double a = compute(new LogitAdjustment(new long[] {30, 20, 10}, 1.0), s, y).value();
        double b = compute(new LogitAdjustment(new long[] {3, 2, 1}, 1.0), s, y).value();
        assertEquals(a, b, 1e-12);
    }

    @Test
    void givenBalancedSoftmaxFormula_whenComputed_thenEqualsIt() {
        // L = -log( n_y exp(s_y) / sum_k n_k exp(s_k) ), written out independently
        double[][] s = {{1.0, -0.5, 2.0}, {0.3, 0.1, -1.2}};
        int[] y = {2, 1};
        long[] n = {50, 10, 2};
        double expected = 0;
        for (int i = 0; i < s.length; i++) {
            double den = 0;
            for (int k = 0; k < 3; k++) {
                den += n[k] * Math.exp(s[i][k]);
            }
            expected += -Math.log(n[y[i]] * Math.exp(s[i][y[i]]) / den);
        }
        expected /= s.length;
        assertEquals(expected, compute(new LogitAdjustment(n, 1.0), matrix(s), vector(2, 1)).value(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5, 1.0, 2.0})
    void givenRandomLogits_whenDifferentiated_thenMatchesFiniteDifferences(double tau) {
        Random rnd = new Random(7);
        INDArray s = LossChecks.randomLogits(rnd, 3, 5, 4);
        INDArray y = LossChecks.randomLabels(rnd, 4, 5);
        LogitAdjustment loss = new LogitAdjustment(new long[] {500, 120, 30, 7}, tau);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.labels(y));
        assertRowsSumToZero(compute(loss, s, y).studentGradient(), 1e-12);
    }

    @Test
    void givenHugeLogits_whenComputed_thenFinite() {
        LossResult r = compute(new LogitAdjustment(new long[] {1000, 1}, 1.0), matrix(new double[][] {{1e4, -1e4}}),
                vector(1));
        assertEquals(2e4 + Math.log(1000), r.value(), 1e-6);
        LossChecks.assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenCatalogueFormula_whenParsedAndPrinted_thenRoundTrips() {
        Objective o = Objective.parse("LogitAdjustment(classCounts=500;120;7, tau=1.5)");
        assertEquals(o.toString(), Objective.parse(o.toString()).toString());
        assertTrue(o.toString().contains("classCounts=500;120;7"), o.toString());
        DistillationLoss d = LossCatalogue.create("LogitAdjustment", Map.of("classCounts", "3;1"));
        assertEquals(1.3862944, compute(d, matrix(new double[][] {{0, 0}}), vector(1)).value(), 1e-7);
    }

    @Test
    void givenBadParameters_whenCreated_thenClearErrors() {
        assertEquals("classCounts must be > 0 (log prior), got 0 at class 1",
                assertThrows(IllegalArgumentException.class, () -> new LogitAdjustment(new long[] {5, 0}, 1.0)).getMessage());
        assertEquals("tau must be >= 0 and finite, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new LogitAdjustment(new long[] {5, 1}, -1.0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LossCatalogue.create("LogitAdjustment"))
                .getMessage().contains("classCounts is required"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("LogitAdjustment", Map.of("classCounts", "5;x"))).getMessage()
                .contains("entry 1: 'x'"));
        LogitAdjustment three = new LogitAdjustment(new long[] {5, 2, 1}, 1.0);
        assertEquals("LogitAdjustment: classCounts has 3 entries but the logits have 2 classes",
                assertThrows(IllegalArgumentException.class, () -> compute(three, matrix(new double[][] {{0, 0}}),
                        vector(0))).getMessage());
    }
}
