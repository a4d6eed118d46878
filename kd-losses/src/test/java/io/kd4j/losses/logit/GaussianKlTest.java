package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.LossChecks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GaussianKlTest {
    private final GaussianKl loss = new GaussianKl();

    private LossResult run(INDArray s, INDArray t) {
        return loss.compute(LossInput.of(s).teacherLogits(t).build());
    }

    /** The textbook KL(N(m, sT²) || N(mu, sS²)) = log(sS / sT) + (sT² + (m - mu)²) / (2 sS²) - 1/2, in sigmas. */
    private static double textbookKl(double m, double sigmaT, double mu, double sigmaS) {
        return Math.log(sigmaS / sigmaT) + (sigmaT * sigmaT + (m - mu) * (m - mu)) / (2 * sigmaS * sigmaS) - 0.5;
    }

    @Test
    void givenOneDimension_whenComputed_thenMatchesHandArithmetic() {
        // mu = 1, lv = 0; m = 3, v = 2: KL = 0.5 (0 - ln 2 + 6 - 1) = 2.5 - 0.5 ln 2 = 2.1534264
        // gradient as the NLL form: [-2, -2.5]
        LossResult r = run(matrix(new double[][] {{1, 0}}), matrix(new double[][] {{3, 2}}));
        assertEquals(2.5 - 0.5 * Math.log(2), r.value(), 1e-12);
        assertEquals(2.1534264, r.value(), 1e-7);
        assertArrayEquals(new double[] {-2, -2.5}, r.studentGradient().toDoubleVector(), 1e-12);
    }

    @Test
    void givenRandomGaussians_whenComputed_thenEqualsTextbookKlMeanOverDimensions() {
        Random rnd = new Random(41);
        INDArray s = LossChecks.randomLogits(rnd, 2, 4, 6);
        INDArray t = GaussianNllTest.randomTeacher(rnd, 4, 3);
        double expected = 0;
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 3; k++) {
                expected += textbookKl(t.getDouble(i, k), Math.sqrt(t.getDouble(i, 3 + k)), s.getDouble(i, k),
                        Math.sqrt(Math.exp(s.getDouble(i, 3 + k)))) / 3;
            }
        }
        assertEquals(expected / 4, run(s, t).value(), 1e-12);
    }

    @Test
    void givenSameInputs_whenComparedWithNllForm_thenDiffersByTeacherEntropyWithSameGradient() {
        // KL = NLL(full) - H(teacher), H = 0.5 log(2 pi e v) per dimension, mean over D and rows
        Random rnd = new Random(42);
        INDArray s = LossChecks.randomLogits(rnd, 2, 3, 4);
        INDArray t = GaussianNllTest.randomTeacher(rnd, 3, 2);
        double entropy = 0;
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 2; k++) {
                entropy += 0.5 * Math.log(2 * Math.PI * Math.E * t.getDouble(i, 2 + k)) / 6;
            }
        }
        LossResult kl = run(s, t);
        LossResult nll = new GaussianNll(true).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(nll.value() - entropy, kl.value(), 1e-12);
        assertArrayEquals(nll.studentGradient().ravel().toDoubleVector(), kl.studentGradient().ravel().toDoubleVector(), 1e-12);
    }

    @Test
    void givenRandomGaussians_whenGradientChecked_thenMatchesFiniteDifferencesIncludingMaskedSequences() {
        Random rnd = new Random(43);
        INDArray s = LossChecks.randomLogits(rnd, 2, 3, 6);
        INDArray t = GaussianNllTest.randomTeacher(rnd, 3, 3);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t));
        INDArray s3 = LossChecks.randomLogits(rnd, 2, 2, 4, 3);
        INDArray t3 = GaussianNllTest.randomTeacher(rnd, 2, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 0}, {0, 1, 1}});
        assertGradientMatchesFiniteDifferences(loss, s3, b -> b.teacherLogits(t3).mask(mask));
        assertEquals(0.0, loss.compute(LossInput.of(s3).teacherLogits(t3).mask(mask).build())
                .studentGradient().getDouble(0, 1, 2), 0.0);
    }

    @Test
    void givenStudentEqualsTeacherGaussian_whenComputed_thenZeroAndBatchSizeIndependent() {
        INDArray t = GaussianNllTest.randomTeacher(new Random(44), 3, 2);
        INDArray s = t.dup();
        for (int i = 0; i < 3; i++) {
            for (int k = 2; k < 4; k++) {
                s.putScalar(new long[] {i, k}, Math.log(t.getDouble(i, k)));
            }
        }
        LossResult r = run(s, t);
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
        INDArray other = LossChecks.randomLogits(new Random(45), 2, 3, 4);
        assertEquals(run(other, t).value(), run(Nd4j.vstack(other, other), Nd4j.vstack(t, t)).value(), 1e-12);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> run(matrix(new double[][] {{0, 0}}), matrix(new double[][] {{0, 0}})));
        assertEquals("GaussianKl: teacher variance must be > 0 (teacher_logits columns D..2D-1 hold variances, "
                + "not log-variances), got 0.0 at row 0, dimension 0", zero.getMessage());
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> run(matrix(new double[][] {{1}}), matrix(new double[][] {{1}})));
        assertEquals("GaussianKl: outputs must be [means (D) | log-variances (D)], an even number of columns >= 2, got 1",
                odd.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDescribeRoundTrips() {
        assertEquals("GaussianKl", LossCatalogue.create("GaussianKl").describe());
        DivergenceChecks.assertDescribeRoundTrips(loss);
    }
}
