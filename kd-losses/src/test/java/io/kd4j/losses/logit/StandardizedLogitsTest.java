package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
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

class StandardizedLogitsTest {

    private static StandardizedLogits lsKd(double temperature) {
        return new StandardizedLogits(SoftTargetKl.withTemperature(temperature));
    }

    /** The reference {@code normalize()}: {@code (x - mean) / (1e-7 + std)}, std unbiased. */
    static double[] normalize(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v / x.length;
        }
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(ss / (x.length - 1));
        double[] z = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            z[j] = (x[j] - mean) / (1e-7 + std);
        }
        return z;
    }

    @Test
    void givenReversedRows_whenComputedAtT1_thenMatchesHandArithmetic() {
        // Given student [1, 2, 3] and teacher [3, 2, 1]: mean 2, unbiased std sqrt((1 + 0 + 1) / 2) = 1,
        // so z_s = [-1, 0, 1] and z_t = [1, 0, -1] (up to the 1e-7 of the denominator).
        // p = [e, 1, 1/e] / (e + 1 + 1/e); log p - log q = [2, 0, -2]
        // KL = 2 (p_0 - p_2) = 2 (e - 1/e) / (e + 1 + 1/e) = 1.1504208
        INDArray s = matrix(new double[][] {{1, 2, 3}});
        INDArray t = matrix(new double[][] {{3, 2, 1}});
        LossResult r = lsKd(1).compute(LossInput.of(s).teacherLogits(t).build());
        double e = Math.E;
        // tolerance: the eps 1e-7 of the denominator shifts z by a relative 1e-7
        assertEquals(2 * (e - 1 / e) / (e + 1 + 1 / e), r.value(), 1e-6);
        assertEquals(1.1504208, r.value(), 1e-6);
    }

    @Test
    void givenRandomLogits_whenComputed_thenEqualsLsRepoKdLoss() {
        // kd_loss(logit_stand=True): KL(softmax(normalize(t)/T) || softmax(normalize(s)/T)) mean * T²
        Random rnd = new Random(41);
        INDArray s = LossChecks.randomLogits(rnd, 6, 5, 8);
        INDArray t = LossChecks.randomLogits(rnd, 6, 5, 8);
        double temp = 2.0;
        double expected = 0;
        for (int i = 0; i < 5; i++) {
            double[] p = Reference.softmax(normalize(t.getRow(i).toDoubleVector()), temp);
            double[] q = Reference.softmax(normalize(s.getRow(i).toDoubleVector()), temp);
            expected += Reference.kl(p, q);
        }
        expected = expected / 5 * temp * temp;
        var loss = LossCatalogue.create("SoftTargetKl", Map.of("temperature", "2.0", "standardize", "true"));
        assertEquals(expected, loss.compute(LossInput.of(s).teacherLogits(t).build()).value(), 1e-12);
    }

    @Test
    void givenRandomLogits_whenDkdStandardized_thenEqualsLsRepoDkdLoss() {
        Random rnd = new Random(43);
        INDArray s = LossChecks.randomLogits(rnd, 6, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 6, 4, 6);
        INDArray y = LossChecks.randomLabels(rnd, 6, 4);
        INDArray zs = Nd4j.create(DataType.DOUBLE, 4, 6);
        INDArray zt = Nd4j.create(DataType.DOUBLE, 4, 6);
        for (int i = 0; i < 4; i++) {
            zs.putRow(i, Nd4j.create(normalize(s.getRow(i).toDoubleVector())));
            zt.putRow(i, Nd4j.create(normalize(t.getRow(i).toDoubleVector())));
        }
        double expected = DkdTest.mdistillerDkd(zs, zt, y.toIntVector(), 9, 72, 2);
        var loss = LossCatalogue.create("Dkd", Map.of("targetWeight", "9", "nonTargetWeight", "72",
                "temperature", "2", "standardize", "true"));
        assertEquals(expected, loss.compute(LossInput.of(s).teacherLogits(t).labels(y).epoch(20).build()).value(),
                1e-10);
    }

    static Stream<LogitLoss> wrapped() {
        return Stream.of(SoftTargetKl.withTemperature(1), SoftTargetKl.withTemperature(2), Dkd.create());
    }

    @ParameterizedTest
    @MethodSource("wrapped")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(LogitLoss inner) {
        Random rnd = new Random(47);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 6);
        INDArray y = LossChecks.randomLabels(rnd, 6, 4);
        assertGradientMatchesFiniteDifferences(new StandardizedLogits(inner), s,
                b -> b.teacherLogits(t).labels(y).epoch(20));
    }

    @Test
    void givenSequenceWithMask_whenGradientChecked_thenMatchesFiniteDifferencesAndMaskedIsZero() {
        Random rnd = new Random(53);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray y = LossChecks.randomLabels(rnd, 4, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {1, 1, 1}});
        StandardizedLogits loss = new StandardizedLogits(Dkd.create());
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).labels(y).mask(mask).epoch(20).build());
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 1), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).labels(y).mask(mask).epoch(20));
    }

    @Test
    void givenAffinelyRescaledLogits_whenComputed_thenSameValueAndGradientRowsSumToZero() {
        // z-scores are invariant to x -> a x + b (a > 0), up to the eps 1e-7 in the denominator
        Random rnd = new Random(59);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        LossResult base = lsKd(2).compute(LossInput.of(s).teacherLogits(t).build());
        LossResult scaled = lsKd(2).compute(LossInput.of(s).teacherLogits(t.mul(7).add(3)).build());
        assertEquals(base.value(), scaled.value(), 1e-6);
        assertRowsSumToZero(base.studentGradient(), 1e-12);
        // batch-size independence
        LossResult twice = lsKd(2).compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t)).build());
        assertEquals(base.value(), twice.value(), 1e-12);
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenZeroValueAndGradient() {
        INDArray s = LossChecks.randomLogits(new Random(61), 4, 3, 7);
        LossResult r = lsKd(2).compute(LossInput.of(s).teacherLogits(s.dup()).build());
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenConstantStudentRow_whenComputed_thenFiniteAndEqualToExactDirectionalDerivative() {
        // At std = 0, z = 0 and dz = (dx - mean dx) / 1e-7 exactly: gradient (g - mean g) / 1e-7, with
        // g = T (q - p) / n of KL at z_s = 0 (q uniform)
        INDArray s = matrix(new double[][] {{2, 2, 2}});
        INDArray t = matrix(new double[][] {{1, 2, 3}});
        LossResult r = lsKd(1).compute(LossInput.of(s).teacherLogits(t).build());
        double[] p = Reference.softmax(normalize(new double[] {1, 2, 3}), 1);
        for (int j = 0; j < 3; j++) {
            assertEquals((1.0 / 3 - p[j]) / 1e-7, r.studentGradient().getDouble(0, j), 1e-3);
        }
        assertEquals(Reference.kl(p, new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3}), r.value(), 1e-12);
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}});
        LossResult r = new StandardizedLogits(Dkd.create()).compute(LossInput.of(s).teacherLogits(t)
                .labels(LossChecks.vector(0, 1)).build());
        assertTrue(Double.isFinite(r.value()));
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadUse_whenBuiltOrComputed_thenClearErrors() {
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> lsKd(1).compute(
                LossInput.of(matrix(new double[][] {{1}})).teacherLogits(matrix(new double[][] {{1}})).build()));
        assertEquals("SoftTargetKl: standardize needs at least 2 classes (unbiased std), got 1", one.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> new StandardizedLogits(lsKd(1)));
        assertEquals("logits are already standardized by SoftTargetKl(temperature=1.0, standardize=true)",
                twice.getMessage());
        IllegalArgumentException flag = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("SoftTargetKl", Map.of("standardize", "yes")));
        assertEquals("SoftTargetKl: parameter 'standardize' must be true or false, got 'yes'", flag.getMessage());
    }

    @Test
    void givenCatalogue_whenStandardizeFlagGiven_thenDescribeRoundTripsAndDefaultIsUnchanged() {
        String described = "SoftTargetKl(temperature=2.0, standardize=true)";
        var loss = LossCatalogue.create("SoftTargetKl", Map.of("temperature", "2.0", "standardize", "true"));
        assertEquals(described, loss.describe());
        assertEquals("9.0*" + described, Objective.parse("9*" + described).describe());
        assertTrue(LossCatalogue.create("SoftTargetKl", Map.of("standardize", "false")) instanceof SoftTargetKl);
        assertEquals("SoftTargetKl(temperature=4.0)", LossCatalogue.create("SoftTargetKl").describe());
    }
}
