package io.kd4j.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The benchmark's two sides compute the same loss: the fused kernel and the ND4J composition of
 * {@link Nd4jLosses} (written separately from the papers' formulas) agree on the value and on the
 * gradient, on small shapes, with and without a sequence mask. So the benchmark compares like with like.
 */
class KernelBenchTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "KD, 6x40", "KD, 2x40x48", "CE+KD, 6x40", "ReverseKl, 6x40", "TVD, 2x40x48", "JSD, 6x40",
        "DKD, 6x40", "DKD, 2x40x48", "LTKD, 6x40", "LTKD, 2x40x48", "TopK-KL, 6x40", "TopK-KL, 2x40x48",
        "KD-f64, 6x40"})
    void givenASmallShape_whenBothSidesRun_thenValueAndGradientAgree(String loss, String shape) {
        KernelBench b = new KernelBench();
        b.loss = loss;
        b.shape = shape;
        b.setup();
        double fused = b.fusedResult().value();
        double[] fusedGrad = b.fusedGradient().castTo(DataType.DOUBLE).data().asDouble();
        Nd4jLosses.Out nd4j = b.nd4jResult();
        double[] nd4jGrad = nd4j.grad().castTo(DataType.DOUBLE).dup('c').data().asDouble();
        // float32 on both sides: agreement to 1e-4 relative; the masked rows' gradient is 0 on both
        assertEquals(nd4j.value(), fused, 1e-4 * Math.max(1, Math.abs(fused)), "value");
        double scale = 0;
        for (double g : fusedGrad) {
            scale = Math.max(scale, Math.abs(g));
        }
        assertArrayEquals(nd4jGrad, fusedGrad, 1e-4 * scale, "gradient");
    }
}
