package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class NstTest {
    private final Nst nst = Nst.create();

    @Test
    void givenOrthogonalChannels_whenComputed_thenMatchesHandArithmetic() {
        // student one channel [1, 0]; teacher two channels [1, 0], [0, 1] (K = 2 positions)
        // k(t,t) mean = (1 + 0 + 0 + 1) / 4 = 0.5; k(s,s) = 1; k(s,t) mean = (1 + 0) / 2 = 0.5
        // L = 0.5 + 1 - 2 * 0.5 = 0.5
        INDArray s = array(new double[] {1, 0}, 1, 1, 1, 2);
        INDArray t = array(new double[] {1, 0, 0, 1}, 1, 2, 1, 2);
        assertEquals(0.5, FeatureChecks.value(nst, s, t), 1e-15);
    }

    @Test
    void givenRandomMaps_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 3, 4, 2, 3);
        INDArray t = random(2, 2, 3, 6, 2, 3);
        assertEquals(FeatureReference.nst(s, t), FeatureChecks.value(nst, s, t), 1e-14);
    }

    @Test
    void givenRandomMaps_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(nst, random(3, 2, 2, 3, 2, 2), random(4, 2, 2, 4, 2, 2), null);
        FeatureChecks.assertGradient(nst, random(5, 2, 2, 2, 5), random(6, 2, 2, 3, 5), null);
    }

    @Test
    void givenScaledStudentOrEqualMaps_whenComputed_thenInvariants() {
        INDArray s = random(7, 2, 2, 3, 2, 2);
        INDArray t = random(8, 2, 2, 5, 2, 2);
        double base = FeatureChecks.value(nst, s, t);
        assertEquals(base, FeatureChecks.value(nst, s.mul(9), t), 1e-13);
        assertEquals(0.0, FeatureChecks.value(nst, s, s.mul(2)), 1e-14);
        assertEquals(true, base > 0);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(nst, random(9, 1, 2, 2, 2, 2), random(10, 1, 2, 3, 2, 2));
        FeatureChecks.assertMessage("Nst: does not support a mask; pass unmasked features",
                () -> nst.compute(new FeatureInput(random(1, 1, 2, 2, 3), random(1, 1, 2, 2, 3),
                        FeatureChecks.mask(2, 3))));
        FeatureChecks.assertFloat32MatchesFloat64(nst, random(11, 3, 2, 3, 2, 2), random(12, 3, 2, 4, 2, 2));
        FeatureChecks.assertCatalogueEntry("Nst", Map.of(), "Nst()");
    }
}
