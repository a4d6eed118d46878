package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.DivergenceChecks;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ListwiseKlTest {

    /** sentence-transformers DistillKLDivLoss for one query, written plainly: KL(softmax(t/T) || softmax(s/T)) T². */
    private static DivergenceChecks.RowValue sentenceTransformers(double temperature) {
        return (teacher, student) -> Reference.kl(Reference.softmax(teacher, temperature),
                Reference.softmax(student, temperature)) * temperature * temperature;
    }

    @Test
    void givenTwoCandidates_whenComputed_thenMatchesHandArithmetic() {
        // scores s = [0, 0], t = [ln 3, 0], T = 1: p = [3/4, 1/4], q = [1/2, 1/2]
        // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.1308120; gradient q - p = [-1/4, 1/4]
        LossResult r = ListwiseKl.withTemperature(1.0).compute(LossInput.of(matrix(new double[][] {{0, 0}}))
                .teacherLogits(matrix(new double[][] {{Math.log(3), 0}})).build());
        assertEquals(0.1308120, r.value(), 1e-7);
        assertArrayEquals(new double[] {-0.25, 0.25}, r.studentGradient().toDoubleVector(), 1e-12);
    }

    @Test
    void givenCandidateLists_whenComputed_thenEqualsSentenceTransformersDistillKlDivLoss() {
        for (double temperature : new double[] {1.0, 2.0, 0.5}) {
            DivergenceChecks.assertMatchesReferenceOnBatch(ListwiseKl.withTemperature(temperature),
                    sentenceTransformers(temperature), 21, 4, 5, 8, 1e-12);
        }
    }

    @Test
    void givenSameScores_whenComputed_thenEqualsSoftTargetKlValueAndGradient() {
        Random rnd = new Random(22);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 6);
        LossResult listwise = ListwiseKl.withTemperature(3.0).compute(LossInput.of(s).teacherLogits(t).build());
        LossResult kd = SoftTargetKl.withTemperature(3.0).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(kd.value(), listwise.value(), 1e-12);
        assertArrayEquals(kd.studentGradient().ravel().toDoubleVector(), listwise.studentGradient().ravel().toDoubleVector(), 1e-12);
    }

    @Test
    void givenRandomScores_whenGradientChecked_thenMatchesFiniteDifferencesAndMaskedTokenMean() {
        DivergenceChecks.assertGradientOnMatrix(ListwiseKl.withTemperature(2.0), 23);
        DivergenceChecks.assertMaskedSequenceTokenMean(ListwiseKl.withTemperature(1.0), sentenceTransformers(1.0), 24);
    }

    @Test
    void givenInvariants_whenComputed_thenHold() {
        ListwiseKl loss = ListwiseKl.withTemperature(1.0);
        DivergenceChecks.assertZeroAtEquality(loss);
        DivergenceChecks.assertBatchIndependentAndRowsSumToZero(loss);
        DivergenceChecks.assertFiniteAtFloat32Extremes(loss);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        ListwiseKl loss = ListwiseKl.withTemperature(1.0);
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(matrix(new double[][] {{1}})).teacherLogits(matrix(new double[][] {{1}})).build()));
        assertEquals("ListwiseKl: each candidate list needs at least 2 scores (columns >= 2), got 1", one.getMessage());
        DivergenceChecks.assertRejectsBadDenseInputs(loss);
        IllegalArgumentException temperature = assertThrows(IllegalArgumentException.class,
                () -> LossCatalogue.create("ListwiseKl", Map.of("temperature", "-1")));
        assertEquals("temperature must be > 0 and finite, got -1.0", temperature.getMessage());
    }

    @Test
    void givenCatalogueName_whenCreated_thenDefaultTemperatureOneAndDescribeRoundTrips() {
        assertEquals("ListwiseKl(temperature=1.0)", LossCatalogue.create("ListwiseKl").describe());
        DivergenceChecks.assertDescribeRoundTrips(LossCatalogue.create("ListwiseKl", Map.of("temperature", "2")));
    }
}
