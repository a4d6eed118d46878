package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class CtkdTest {

    private static double kdAt(INDArray s, INDArray t, double temp) {
        // plain Hinton KD: T^2 mean_i KL(softmax(t/T) || softmax(s/T))
        double sum = 0;
        for (int i = 0; i < s.rows(); i++) {
            sum += Reference.kl(Reference.softmax(t.getRow(i).toDoubleVector(), temp),
                    Reference.softmax(s.getRow(i).toDoubleVector(), temp));
        }
        return temp * temp * sum / s.rows();
    }

    @Test
    void givenDefaults_whenCreated_thenInitialTemperatureIsCtkds() {
        // T = 1 + 20 * sigmoid(1) = 1 + 20 * 0.7310586 = 15.621172
        Ctkd c = (Ctkd) LossCatalogue.create("Ctkd", Map.of());
        assertEquals(1 + 20 / (1 + Math.exp(-1)), c.temperature(), 1e-12);
        assertEquals(15.621172, c.temperature(), 1e-6);
    }

    @Test
    void givenFrozenTemperature_whenComputed_thenEqualsKdAtThatTemperatureAndGradientChecks() {
        Random rnd = new Random(3);
        INDArray s = LossChecks.randomLogits(rnd, 4, 5, 6);
        INDArray t = LossChecks.randomLogits(rnd, 4, 5, 6);
        Ctkd frozen = new Ctkd(1.0, 20.0, 0.0, 0.0, 10, 1.0); // T = 1 + 20 * 0.5 = 11
        double v = frozen.compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(kdAt(s, t, 11.0), v, 1e-12);
        assertGradientMatchesFiniteDifferences(frozen, s, b -> b.teacherLogits(t));
        INDArray seq = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray tseq = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {1, 1, 0}});
        assertGradientMatchesFiniteDifferences(frozen, seq, b -> b.teacherLogits(tseq).mask(mask));
    }

    @Test
    void givenLearningRate_whenEvaluatedAfterReversalRamp_thenTemperatureMovesUpTheLossGradient() {
        // Given the reversal at full strength (epoch >= 1 + reversalEpochs) the temperature logit takes a
        // gradient-ascent step: theta' = theta + lr * dL/dT * range * s(1-s), with dL/dT from central differences
        Random rnd = new Random(9);
        INDArray s = LossChecks.randomLogits(rnd, 4, 6, 5);
        INDArray t = LossChecks.randomLogits(rnd, 4, 6, 5);
        double lr = 0.01;
        Ctkd c = new Ctkd(1.0, 20.0, 0.0, lr, 10, 1.0);
        double t0 = c.temperature();
        double h = 1e-5;
        double dLdT = (kdAt(s, t, t0 + h) - kdAt(s, t, t0 - h)) / (2 * h);
        double expectedTheta = 0.0 + lr * 1.0 * dLdT * 20.0 * 0.25;
        c.compute(LossInput.of(s).teacherLogits(t).epoch(11.0).build());
        double expectedT = 1 + 20 / (1 + Math.exp(-expectedTheta));
        assertEquals(expectedT, c.temperature(), 1e-9);
        assertTrue(c.temperature() != t0);
    }

    @Test
    void givenFirstEpoch_whenEvaluated_thenNoReversalSoTemperatureStays() {
        Ctkd c = new Ctkd(1.0, 20.0, 0.5, 0.1, 10, 1.0);
        double before = c.temperature();
        Random rnd = new Random(1);
        c.compute(LossInput.of(LossChecks.randomLogits(rnd, 3, 4, 5)).teacherLogits(LossChecks.randomLogits(rnd, 3, 4, 5))
                .epoch(1.0).build());
        assertEquals(before, c.temperature(), 0.0);
        // lambda(e) = (1 - cos(pi * (e - 1) / 10)) / 2: 0 at e = 1, 0.5 at e = 6, 1 from e = 11
        assertEquals(0.5, c.reversal(6.0), 1e-12);
        assertEquals(1.0, c.reversal(30.0), 1e-12);
    }

    @Test
    void givenBadParameters_whenCreated_thenClearErrors() {
        assertEquals("minTemperature must be > 0 and finite, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> new Ctkd(0, 20, 1, 0.05, 10, 1)).getMessage());
        assertEquals("learningRate must be >= 0 and finite, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new Ctkd(1, 20, 1, -1, 10, 1)).getMessage());
        assertEquals("initialLogit must be finite, got NaN",
                assertThrows(IllegalArgumentException.class, () -> new Ctkd(1, 20, Double.NaN, 0.05, 10, 1)).getMessage());
        assertEquals("Ctkd(minTemperature=1.0, temperatureRange=20.0, initialLogit=1.0, learningRate=0.05, "
                + "reversalEpochs=10.0, maxReversal=1.0)", LossCatalogue.create("ctkd", Map.of()).describe());
    }
}
