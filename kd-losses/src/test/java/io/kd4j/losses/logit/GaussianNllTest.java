package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.LossChecks;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GaussianNllTest {
    private final GaussianNll loss = new GaussianNll(false);

    private static LossResult run(GaussianNll l, INDArray s, INDArray t) {
        return l.compute(LossInput.of(s).teacherLogits(t).build());
    }

    /** A teacher block [means (d) | variances (d)] with variances in (0.1, 3), rank 2 or 3. */
    static INDArray randomTeacher(Random rnd, long batch, int d, long... time) {
        INDArray t = time.length == 0 ? LossChecks.randomLogits(rnd, 2, batch, 2 * d)
                : LossChecks.randomLogits(rnd, 2, batch, 2 * d, time[0]);
        for (long i = 0; i < t.length(); i++) {
            long column = (i / (time.length == 0 ? 1 : time[0])) % (2L * d);
            if (column >= d) {
                t.putScalar(i, 0.1 + 1.45 * (t.getDouble(i) + 2) / 2);
            }
        }
        return t;
    }

    @Test
    void givenOneDimension_whenComputed_thenMatchesHandArithmetic() {
        // mu = 1, lv = 0 (sigma² = 1); teacher m = 3, v = 2: (v + (m - mu)²) e^{-lv} = 2 + 4 = 6
        // NLL = 0.5 (0 + 6) = 3; dL/dmu = (mu - m) e^{-lv} = -2; dL/dlv = 0.5 (1 - 6) = -2.5
        INDArray s = matrix(new double[][] {{1, 0}});
        INDArray t = matrix(new double[][] {{3, 2}});
        LossResult r = run(loss, s, t);
        assertEquals(3.0, r.value(), 1e-12);
        assertArrayEquals(new double[] {-2, -2.5}, r.studentGradient().toDoubleVector(), 1e-12);
        // full adds 0.5 ln(2 pi) = 0.9189385
        assertEquals(3.0 + 0.9189385332046727, run(new GaussianNll(true), s, t).value(), 1e-12);
    }

    @Test
    void givenZeroTeacherVariance_whenComputed_thenEqualsTorchGaussianNllLoss() {
        // torch.nn.GaussianNLLLoss(full=False, reduction='mean')(input=mu, target=m, var=e^lv):
        // mean over batch x D of 0.5 (log var + (input - target)² / var)
        Random rnd = new Random(31);
        int n = 5;
        int d = 3;
        INDArray s = LossChecks.randomLogits(rnd, 2, n, 2 * d);
        INDArray t = LossChecks.randomLogits(rnd, 2, n, 2 * d);
        double expected = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                t.putScalar(new long[] {i, d + k}, 0.0);
                double var = Math.exp(s.getDouble(i, d + k));
                double diff = s.getDouble(i, k) - t.getDouble(i, k);
                expected += 0.5 * (Math.log(var) + diff * diff / var);
            }
        }
        assertEquals(expected / (n * d), run(loss, s, t).value(), 1e-12);
    }

    @Test
    void givenEnsembleMembers_whenTargetsAreTheirMeanAndVariance_thenEqualsMeanMemberNll() {
        // Members' predictions y_1..y_M; teacher = (sample mean, population variance). The loss must equal
        // the mean over members of 0.5 (lv + (y_j - mu)² e^{-lv}) (each member's NLL at its prediction).
        double[] members = {0.3, 1.7, -0.4, 2.2};
        double m = 0;
        for (double y : members) {
            m += y / members.length;
        }
        double v = 0;
        for (double y : members) {
            v += (y - m) * (y - m) / members.length;
        }
        double mu = 0.5;
        double lv = Math.log(0.8);
        double expected = 0;
        for (double y : members) {
            expected += 0.5 * (lv + (y - mu) * (y - mu) / 0.8) / members.length;
        }
        assertEquals(expected, run(loss, matrix(new double[][] {{mu, lv}}), matrix(new double[][] {{m, v}})).value(),
                1e-12);
    }

    @Test
    void givenRandomGaussians_whenGradientChecked_thenMatchesFiniteDifferences() {
        Random rnd = new Random(32);
        INDArray s = LossChecks.randomLogits(rnd, 2, 3, 6);
        INDArray t = randomTeacher(rnd, 3, 3);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t));
        assertGradientMatchesFiniteDifferences(new GaussianNll(true), s, b -> b.teacherLogits(t));
    }

    @Test
    void givenMaskedSequence_whenComputed_thenTokenMeanOverValidPositionsAndZeroGradientWhereMasked() {
        Random rnd = new Random(33);
        INDArray s = LossChecks.randomLogits(rnd, 2, 2, 4, 3);
        INDArray t = randomTeacher(rnd, 2, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {0, 1, 0}});
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        int[][] valid = {{0, 0}, {0, 2}, {1, 1}};
        double expected = 0;
        for (int[] bt : valid) {
            for (int k = 0; k < 2; k++) {
                double var = Math.exp(s.getDouble(bt[0], 2 + k, bt[1]));
                double diff = s.getDouble(bt[0], k, bt[1]) - t.getDouble(bt[0], k, bt[1]);
                expected += 0.5 * (Math.log(var) + (t.getDouble(bt[0], 2 + k, bt[1]) + diff * diff) / var) / 2;
            }
        }
        assertEquals(expected / 3, r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 1), 0.0);
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 2), 0.0);
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    @Test
    void givenStudentAtTeacherGaussian_whenComputed_thenMinimumWithZeroGradient() {
        // at mu = m, e^lv = v the gradient vanishes and the value is 0.5 (log v + 1) per dimension
        INDArray t = matrix(new double[][] {{1.5, -2, 0.5, 4}});
        INDArray s = matrix(new double[][] {{1.5, -2, Math.log(0.5), Math.log(4)}});
        LossResult r = run(loss, s, t);
        assertEquals(0.5 * ((Math.log(0.5) + 1) + (Math.log(4) + 1)) / 2, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
        INDArray bigger = randomTeacher(new Random(34), 4, 2);
        INDArray student = LossChecks.randomLogits(new Random(35), 2, 4, 4);
        assertEquals(run(loss, student, bigger).value(),
                run(loss, Nd4j.vstack(student, student), Nd4j.vstack(bigger, bigger)).value(), 1e-12);
    }

    @Test
    void givenExtremeLogVariance_whenComputedInFloat32_thenFiniteAndNoNaN() {
        // lv = -800 with m = mu and v = 0: (v + 0) e^{800} would be 0 * inf = NaN if computed naively; the value is -400
        LossResult r = run(loss, matrix(new double[][] {{2, -800}}), matrix(new double[][] {{2, 0}}));
        assertEquals(-400.0, r.value(), 1e-9);
        assertEquals(0.0, r.studentGradient().getDouble(0, 0), 0.0);
        INDArray s = Nd4j.create(new float[][] {{1e4f, 60f}, {-1e4f, -60f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f}, {-1e4f, 0f}});
        LossResult f = run(loss, s, t);
        assertTrue(Double.isFinite(f.value()), "value " + f.value());
        assertEquals(DataType.FLOAT, f.studentGradient().dataType());
        LossChecks.assertFinite(f.studentGradient(), "gradient");
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> run(loss, matrix(new double[][] {{1, 2, 3}}), matrix(new double[][] {{1, 2, 3}})));
        assertEquals("GaussianNll: outputs must be [means (D) | log-variances (D)], an even number of columns >= 2, got 3",
                odd.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> run(loss, matrix(new double[][] {{0, 0, 0, 0}}), matrix(new double[][] {{0, 0, 1, -0.5}})));
        assertEquals("GaussianNll: teacher variance must be >= 0 (teacher_logits columns D..2D-1 hold variances, "
                + "not log-variances), got -0.5 at row 0, dimension 1", negative.getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(loss);
        IllegalArgumentException flag = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("GaussianNll", Map.of("full", "yes")));
        assertEquals("GaussianNll: parameter 'full' must be true or false, got 'yes'", flag.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDescribeRoundTrips() {
        assertEquals("GaussianNll(full=false)", LossCatalogue.create("GaussianNll").describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("GaussianNll", Map.of("full", "true")));
    }
}
