package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PerSampleTemperatureKlTest {

    @Test
    void givenTwoRowsOfDifferentScale_whenComputed_thenEachRowUsesItsOwnTemperature() {
        // Teacher row 0 = [8, 0, 0, 0]: gap = 8 - 2 = 6, tau = 6 / 2 = 3
        // Teacher row 1 = [1, 0, 0, 0]: gap = 1 - 0.25 = 0.75, tau = max(1, 0.375) = 1 (clamped)
        INDArray t = matrix(new double[][] {{8, 0, 0, 0}, {1, 0, 0, 0}});
        INDArray s = matrix(new double[][] {{1, 2, 0, -1}, {0, 0.5, 0, 0}});
        PerSampleTemperatureKl loss = new PerSampleTemperatureKl(2.0, 1.0, 20.0);
        double row0 = 9 * Reference.kl(Reference.softmax(new double[] {8, 0, 0, 0}, 3), Reference.softmax(new double[] {1, 2, 0, -1}, 3));
        double row1 = Reference.kl(Reference.softmax(new double[] {1, 0, 0, 0}, 1), Reference.softmax(new double[] {0, 0.5, 0, 0}, 1));
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals((row0 + row1) / 2, r.value(), 1e-12);
        assertRowsSumToZero(r.studentGradient(), 1e-12);
    }

    @Test
    void givenEqualClampBounds_whenComputed_thenEqualsSoftTargetKl() {
        Random rnd = new Random(6);
        INDArray s = LossChecks.randomLogits(rnd, 5, 4, 7);
        INDArray t = LossChecks.randomLogits(rnd, 5, 4, 7);
        double a = new PerSampleTemperatureKl(4, 3.5, 3.5).compute(LossInput.of(s).teacherLogits(t).build()).value();
        double b = SoftTargetKl.withTemperature(3.5).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(b, a, 1e-12);
    }

    @Test
    void givenRandomInputs_whenGradientChecked_thenMatchesFiniteDifferences() {
        Random rnd = new Random(12);
        INDArray s = LossChecks.randomLogits(rnd, 6, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 6, 4, 5);
        assertGradientMatchesFiniteDifferences(new PerSampleTemperatureKl(2, 1, 20), s, b -> b.teacherLogits(t));
        INDArray seq = LossChecks.randomLogits(rnd, 6, 2, 5, 3);
        INDArray tseq = LossChecks.randomLogits(rnd, 6, 2, 5, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 0}, {0, 1, 1}});
        assertGradientMatchesFiniteDifferences(new PerSampleTemperatureKl(2, 1, 20), seq, b -> b.teacherLogits(tseq).mask(mask));
    }

    @Test
    void givenInvariantsAndExtremes_whenComputed_thenHold() {
        Random rnd = new Random(13);
        INDArray s = LossChecks.randomLogits(rnd, 4, 3, 6);
        PerSampleTemperatureKl loss = new PerSampleTemperatureKl(4, 1, 20);
        assertEquals(0.0, loss.compute(LossInput.of(s).teacherLogits(s.dup()).build()).value(), 1e-12);
        INDArray t = LossChecks.randomLogits(rnd, 4, 3, 6);
        double one = loss.compute(LossInput.of(s).teacherLogits(t).build()).value();
        double two = loss.compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t)).build()).value();
        assertEquals(one, two, 1e-12);
        INDArray big = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}});
        INDArray bigT = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}});
        LossResult r = loss.compute(LossInput.of(big).teacherLogits(bigT).build());
        assertTrue(Double.isFinite(r.value()));
        LossChecks.assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenBadParameters_whenCreated_thenClearErrors() {
        assertEquals("maxTemperature must be >= minTemperature=2.0, got 1.0",
                assertThrows(IllegalArgumentException.class, () -> new PerSampleTemperatureKl(4, 2, 1)).getMessage());
        assertEquals("logitToTemperatureRatio must be > 0 and finite, got -4.0",
                assertThrows(IllegalArgumentException.class, () -> new PerSampleTemperatureKl(-4, 1, 2)).getMessage());
    }
}
