package io.kd4j.losses.logit;

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
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CrossEntropyTest {

    @Test
    void givenTwoClassRow_whenComputed_thenMatchesHandArithmetic() {
        // Given logits [ln 3, 0] and label 0: softmax = [3/4, 1/4]
        // CE = -ln(3/4) = 0.2876821; gradient = softmax - onehot = [-1/4, 1/4]
        LossResult r = CrossEntropy.create().compute(LossInput.of(matrix(new double[][] {{Math.log(3), 0}}))
                .labels(vector(0)).build());
        assertEquals(-Math.log(0.75), r.value(), 1e-12);
        assertEquals(0.2876821, r.value(), 1e-7);
        assertEquals(-0.25, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(0.25, r.studentGradient().getDouble(0, 1), 1e-12);
    }

    @Test
    void givenLabelSmoothing_whenComputed_thenMatchesPytorchFormula() {
        // PyTorch: (1 - e) * (-log p_y) + e * mean_c(-log p_c)
        Random rnd = new Random(2);
        INDArray s = LossChecks.randomLogits(rnd, 3, 5, 4);
        INDArray y = LossChecks.randomLabels(rnd, 4, 5);
        double e = 0.2;
        double expected = 0;
        for (int i = 0; i < 5; i++) {
            double[] p = Reference.softmax(s.getRow(i).toDoubleVector(), 1.0);
            int label = y.getInt(i);
            double meanNll = 0;
            for (double pc : p) {
                meanNll -= Math.log(pc) / p.length;
            }
            expected += (1 - e) * -Math.log(p[label]) + e * meanNll;
        }
        expected /= 5;
        LossResult r = new CrossEntropy(e).compute(LossInput.of(s).labels(y).build());
        assertEquals(expected, r.value(), 1e-12);
        assertRowsSumToZero(r.studentGradient(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.1})
    void givenRandomInputs_whenGradientChecked_thenMatchesFiniteDifferences(double smoothing) {
        Random rnd = new Random(4);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 6);
        INDArray y = LossChecks.randomLabels(rnd, 6, 4);
        assertGradientMatchesFiniteDifferences(new CrossEntropy(smoothing), s, b -> b.labels(y));
        INDArray seq = LossChecks.randomLogits(rnd, 3, 2, 5, 3);
        INDArray ySeq = LossChecks.randomLabels(rnd, 5, 2, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 0}, {1, 0, 0}});
        assertGradientMatchesFiniteDifferences(new CrossEntropy(smoothing), seq, b -> b.labels(ySeq).mask(mask));
    }

    @Test
    void givenBatchRepeated_whenComputed_thenSameValue() {
        Random rnd = new Random(8);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray y = LossChecks.randomLabels(rnd, 5, 3);
        double one = CrossEntropy.create().compute(LossInput.of(s).labels(y).build()).value();
        double two = CrossEntropy.create().compute(LossInput.of(Nd4j.vstack(s, s)).labels(Nd4j.concat(0, y, y)).build()).value();
        assertEquals(one, two, 1e-12);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        INDArray s = matrix(new double[][] {{0, 1, 2}});
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.create().compute(LossInput.of(s).labels(vector(3)).build()));
        assertTrue(range.getMessage().contains("labels must be class indices in [0, 3), got 3.0 at position 0"),
                range.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.create().compute(LossInput.of(s).build()));
        assertTrue(missing.getMessage().contains("requires labels"), missing.getMessage());
        IllegalArgumentException smoothing = assertThrows(IllegalArgumentException.class, () -> new CrossEntropy(1.0));
        assertEquals("labelSmoothing must be < 1, got 1.0", smoothing.getMessage());
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.create().compute(LossInput.of(matrix(new double[][] {{0, Double.POSITIVE_INFINITY}}))
                        .labels(vector(0)).build()));
        assertTrue(inf.getMessage().contains("student_logits must be finite, got Infinity at row 0, class 1"),
                inf.getMessage());
        assertEquals("CrossEntropy(labelSmoothing=0.1)",
                LossCatalogue.create("CrossEntropy", Map.of("labelSmoothing", "0.1")).describe());
    }
}
