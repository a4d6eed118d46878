package io.kd4j.losses.logit;

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
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MarginMseTest {
    private final MarginMse loss = new MarginMse();

    private LossResult run(INDArray s, INDArray t) {
        return loss.compute(LossInput.of(s).teacherLogits(t).build());
    }

    /** sentence-transformers MarginMSELoss, written plainly: margins pos - neg_j, MSE over the negatives. */
    private static double sentenceTransformersRow(double[] teacher, double[] student) {
        double sum = 0;
        for (int j = 1; j < student.length; j++) {
            double predicted = student[0] - student[j];
            double label = teacher[0] - teacher[j];
            sum += (predicted - label) * (predicted - label);
        }
        return sum / (student.length - 1);
    }

    @Test
    void givenOnePositiveTwoNegatives_whenComputed_thenMatchesHandArithmetic() {
        // student [3, 1, 0]: margins [2, 3]; teacher [2, 1, 1]: margins [1, 1]; d = [1, 2]
        // L = (1 + 4) / 2 = 2.5; dL/ds0 = 2 (1 + 2) / 2 = 3; dL/ds1 = -2*1/2 = -1; dL/ds2 = -2*2/2 = -2
        LossResult r = run(matrix(new double[][] {{3, 1, 0}}), matrix(new double[][] {{2, 1, 1}}));
        assertEquals(2.5, r.value(), 1e-12);
        assertArrayEquals(new double[] {3, -1, -2}, r.studentGradient().toDoubleVector(), 1e-12);
    }

    @Test
    void givenPairs_whenComputed_thenEqualsPaperMseOfMargins() {
        // Hofstaetter et al.: MSE(s+ - s-, t+ - t-) over the batch, one (positive, negative) pair per query
        Random rnd = new Random(11);
        INDArray s = LossChecks.randomLogits(rnd, 5, 7, 2);
        INDArray t = LossChecks.randomLogits(rnd, 5, 7, 2);
        double expected = 0;
        for (int i = 0; i < 7; i++) {
            double d = (s.getDouble(i, 0) - s.getDouble(i, 1)) - (t.getDouble(i, 0) - t.getDouble(i, 1));
            expected += d * d;
        }
        assertEquals(expected / 7, run(s, t).value(), 1e-12);
    }

    @Test
    void givenSeveralNegatives_whenComputed_thenEqualsSentenceTransformersMarginMse() {
        DivergenceChecks.assertMatchesReferenceOnBatch(loss, MarginMseTest::sentenceTransformersRow, 12, 4, 6, 5, 1e-12);
    }

    @Test
    void givenRandomScores_whenGradientChecked_thenMatchesFiniteDifferencesAndMaskedTokenMean() {
        DivergenceChecks.assertGradientOnMatrix(loss, 13);
        DivergenceChecks.assertMaskedSequenceTokenMean(loss, MarginMseTest::sentenceTransformersRow, 14);
    }

    @Test
    void givenStudentEqualsTeacherPlusRowShift_whenComputed_thenZero() {
        // margins ignore a per-row constant: student = teacher + [5, -2, 0.5] per row gives 0
        INDArray t = LossChecks.randomLogits(new Random(15), 3, 3, 4);
        INDArray shift = Nd4j.create(new double[] {5, -2, 0.5}, new long[] {3, 1}, t.dataType());
        LossResult r = run(t.add(shift.repeat(1, 4)), t);
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBatchStackedTwice_whenComputed_thenSameValueAndRowsSumToZero() {
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(loss);
        DivergenceChecks.assertFiniteAtFloat32Extremes(loss);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> run(matrix(new double[][] {{1}}), matrix(new double[][] {{1}})));
        assertEquals("MarginMse: each row needs a positive and at least one negative score (columns >= 2), got 1",
                one.getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(loss);
        IllegalArgumentException param = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("MarginMse", Map.of("temperature", "2")));
        assertEquals("unknown parameter [temperature] for loss MarginMse; valid parameters: []", param.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDescribeRoundTrips() {
        assertEquals("MarginMse", LossCatalogue.create("marginmse").describe());
        DivergenceChecks.assertDescribeRoundTrips(loss);
        assertTrue(LossCatalogue.names().contains("MarginMse"));
    }
}
