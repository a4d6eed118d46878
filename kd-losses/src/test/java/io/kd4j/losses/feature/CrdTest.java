package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class CrdTest {

    @Test
    void givenAlignedPairs_whenComputed_thenMatchesHandArithmetic() {
        // s = t = [e1, e2], tau = 1: z_0 = [1, 0] -> ln(e + 1) - 1 = 0.3132617 for both rows
        // tau = 0.5: z_0 = [2, 0] -> ln(e² + 1) - 2 = 0.1269280
        INDArray e = array(new double[] {1, 0, 0, 1}, 2, 2);
        assertEquals(Math.log(Math.E + 1) - 1, FeatureChecks.value(Crd.of(1.0, 0), e, e.dup()), 1e-15);
        assertEquals(Math.log(Math.exp(2) + 1) - 2, FeatureChecks.value(Crd.of(0.5, 0), e, e.dup()), 1e-15);
    }

    @Test
    void givenMemory_whenComputed_thenMatchesInfoNceWithTheRememberedNegatives() {
        Crd crd = Crd.of(0.07, 16);
        INDArray old = random(1, 1, 3, 4);
        crd.afterStep(FeatureBatch.from(FeatureInput.of(random(9, 1, 3, 4), old), "Crd"));
        double[][] memory = FeatureReference.flat(old);
        for (int i = 0; i < memory.length; i++) {
            double n = Math.sqrt(memory[i][0] * memory[i][0] + memory[i][1] * memory[i][1]
                    + memory[i][2] * memory[i][2] + memory[i][3] * memory[i][3]);
            for (int k = 0; k < 4; k++) {
                memory[i][k] /= n;
            }
        }
        INDArray s = random(2, 1, 5, 4);
        INDArray t = random(3, 1, 5, 4);
        assertEquals(FeatureReference.infoNce(s, t, memory, 0.07), FeatureChecks.value(crd, s, t), 1e-12);
        assertEquals(3, crd.remembered());
        FeatureChecks.assertGradient(crd, s, t, null);
        assertEquals(3, crd.remembered(), "compute and evaluate do not change the memory");
    }

    @Test
    void givenManySteps_whenRemembered_thenMemoryStaysBounded() {
        Crd crd = Crd.of(0.1, 10);
        for (int step = 0; step < 7; step++) {
            crd.afterStep(FeatureBatch.from(FeatureInput.of(random(step, 1, 4, 3), random(step + 50, 1, 4, 3)), "Crd"));
        }
        assertEquals(10, crd.remembered());
        assertEquals(13.0, crd.compute(FeatureInput.of(random(1, 1, 4, 3), random(2, 1, 4, 3))).terms().get("negatives"));
        // the memory holds the 10 most recent teacher rows: steps 4, 5, 6 (12 rows) minus the 2 oldest
        double[][] recent = new double[10][];
        int r = 0;
        for (int step = 4; step < 7; step++) {
            double[][] rows = FeatureReference.flat(random(step + 50, 1, 4, 3));
            for (int i = (step == 4 ? 2 : 0); i < 4; i++) {
                double n = Math.sqrt(rows[i][0] * rows[i][0] + rows[i][1] * rows[i][1] + rows[i][2] * rows[i][2]);
                recent[r++] = new double[] {rows[i][0] / n, rows[i][1] / n, rows[i][2] / n};
            }
        }
        INDArray s = random(5, 1, 4, 3);
        INDArray t = random(6, 1, 4, 3);
        assertEquals(FeatureReference.infoNce(s, t, recent, 0.1), FeatureChecks.value(crd, s, t), 1e-12);
    }

    @Test
    void givenRandomConvMaps_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(Crd.of(0.5, 0), random(7, 2, 3, 2, 2, 2), random(8, 2, 3, 2, 2, 2), null);
        FeatureChecks.assertGradient(Crd.of(0.2, 0), random(9, 2, 3, 2, 3), random(10, 2, 3, 2, 3),
                FeatureChecks.mask(3, 3, new int[] {1, 1}));
    }

    @Test
    void givenStudentAlignedWithTeacher_whenComputed_thenLowerThanMisaligned() {
        INDArray t = random(11, 1, 6, 8);
        Crd crd = Crd.of(0.07, 0);
        double aligned = FeatureChecks.value(crd, t.mul(2), t);
        double shuffled = FeatureChecks.value(crd, org.nd4j.linalg.factory.Nd4j.pullRows(t, 1, new int[] {1, 2, 3, 4, 5, 0}), t);
        assertTrue(aligned < shuffled, aligned + " < " + shuffled);
        assertEquals(aligned, FeatureChecks.value(crd, t.mul(5), t), 1e-12);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        Crd crd = Crd.of(0.07, 8);
        FeatureChecks.assertRejectsGenericBadInputs(crd, random(11, 1, 3, 4), random(12, 1, 3, 4));
        FeatureChecks.assertMessage("Crd: student and teacher embeddings must have the same width per example, got 4 "
                + "and 5 (project the student with an adapter)",
                () -> crd.compute(FeatureInput.of(random(1, 1, 3, 4), random(1, 1, 3, 5))));
        crd.afterStep(FeatureBatch.from(FeatureInput.of(random(1, 1, 3, 4), random(1, 1, 3, 4)), "Crd"));
        FeatureChecks.assertMessage("Crd: the memory holds embeddings of width 4, got width 3",
                () -> crd.compute(FeatureInput.of(random(1, 1, 3, 3), random(1, 1, 3, 3))));
        FeatureChecks.assertMessage("temperature must be > 0 and finite, got 0.0", () -> Crd.of(0, 8));
        FeatureChecks.assertMessage("memorySize must be in [0.0, 1000000.0], got -1.0", () -> Crd.of(0.1, -1));
        FeatureChecks.assertFloat32MatchesFloat64(Crd.of(0.5, 0), random(13, 3, 4, 6), random(14, 3, 4, 6));
        FeatureChecks.assertCatalogueEntry("Crd", Map.of(), "Crd(temperature=0.07, memorySize=4096)");
        FeatureChecks.assertCatalogueEntry("Crd", Map.of("memorySize", "0", "temperature", "0.2"),
                "Crd(temperature=0.2, memorySize=0)");
    }
}
