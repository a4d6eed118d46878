package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class AttentionTransferTest {
    private final AttentionTransfer at = AttentionTransfer.withP(2.0);

    @Test
    void givenTinyMaps_whenComputed_thenMatchesHandArithmetic() {
        // student 2 channels over 2 positions: c0 = [2, 0], c1 = [0, 0] -> a = [(4+0)/2, 0] = [2, 0] -> q = [1, 0]
        // teacher 1 channel [1, 1] -> a = [1, 1] -> q = [1/sqrt2, 1/sqrt2]
        // L = ((1 - 0.7071068)^2 + 0.7071068^2) / 2 = (0.0857864 + 0.5) / 2 = 0.2928932 (= 1 - 1/sqrt2)
        INDArray s = array(new double[] {2, 0, 0, 0}, 1, 2, 1, 2);
        INDArray t = array(new double[] {1, 1}, 1, 1, 1, 2);
        assertEquals(1 - 1 / Math.sqrt(2), FeatureChecks.value(at, s, t), 1e-15);
    }

    @Test
    void givenRandomMaps_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 3, 4, 3, 3);
        INDArray t = random(2, 2, 3, 6, 3, 3);
        assertEquals(FeatureReference.attention(s, t, 2), FeatureChecks.value(at, s, t), 1e-14);
        assertEquals(FeatureReference.attention(s, t, 4), FeatureChecks.value(AttentionTransfer.withP(4), s, t), 1e-14);
    }

    @Test
    void givenRandomMaps_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(at, random(3, 2, 2, 3, 2, 3), random(4, 2, 2, 5, 2, 3), null);
        FeatureChecks.assertGradient(AttentionTransfer.withP(3), random(5, 2, 2, 3, 4), random(6, 2, 2, 2, 4), null);
    }

    @Test
    void givenScaledOrPermutedStudent_whenComputed_thenInvariant() {
        INDArray s = random(7, 2, 2, 3, 2, 2);
        INDArray t = random(8, 2, 2, 4, 2, 2);
        double base = FeatureChecks.value(at, s, t);
        assertEquals(base, FeatureChecks.value(at, s.mul(7.5), t), 1e-13);
        INDArray permuted = s.dup();
        permuted.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0))
                .assign(s.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(2)));
        permuted.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(2))
                .assign(s.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0)));
        assertEquals(base, FeatureChecks.value(at, permuted, t), 1e-13);
        LossResult same = at.compute(FeatureInput.of(s, s.mul(3)));
        assertEquals(0.0, same.value(), 1e-15);
        assertEquals(0.0, same.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(at, random(9, 1, 2, 2, 2, 2), random(10, 1, 2, 3, 2, 2));
        FeatureChecks.assertMessage("p must be in [1.0, 8.0], got 0.5", () -> AttentionTransfer.withP(0.5));
        FeatureChecks.assertMessage("AttentionTransfer: student_features [2, 2, 2, 2] and teacher_features [2, 3, 3, 3] "
                + "must have the same rank and the same sizes after the channel dimension (resize the student tap with "
                + "an adapter)", () -> at.compute(FeatureInput.of(random(1, 1, 2, 2, 2, 2), random(1, 1, 2, 3, 3, 3))));
        FeatureChecks.assertMessage("AttentionTransfer: does not support a mask; pass unmasked features",
                () -> at.compute(new FeatureInput(random(1, 1, 2, 2, 3), random(1, 1, 2, 2, 3),
                        FeatureChecks.mask(2, 3))));
        FeatureChecks.assertFloat32MatchesFloat64(at, random(11, 3, 2, 3, 2, 2), random(12, 3, 2, 4, 2, 2));
        FeatureChecks.assertCatalogueEntry("AttentionTransfer", Map.of(), "AttentionTransfer(p=2.0)");
        FeatureChecks.assertCatalogueEntry("AttentionTransfer", Map.of("p", "4"), "AttentionTransfer(p=4.0)");
    }
}
