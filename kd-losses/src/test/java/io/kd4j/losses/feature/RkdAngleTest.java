package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RkdAngleTest {
    private final RkdAngle rkd = RkdAngle.create();

    @Test
    void givenRightTriangleVersusLine_whenComputed_thenMatchesHandArithmetic() {
        // student (0,0), (1,0), (0,1); teacher 0, 1, 2 on a line. Off-diagonal cosines (j != k, both != i):
        //   anchor 0: student 0, teacher 1 -> x = -1, Huber 0.5
        //   anchor 1: student 1/sqrt2, teacher -1 -> x = 1.7071068, Huber 1.2071068
        //   anchor 2: student 1/sqrt2, teacher 1 -> x = -0.2928932, Huber 0.0428932
        // each appears twice (jk, kj); every other entry agrees: sum 2 * 1.75 = 3.5; / 27 = 0.1296296
        INDArray s = array(new double[] {0, 0, 1, 0, 0, 1}, 3, 2);
        INDArray t = array(new double[] {0, 1, 2}, 3, 1);
        assertEquals(3.5 / 27, FeatureChecks.value(rkd, s, t), 1e-15);
    }

    @Test
    void givenRandomFeatures_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 5, 4);
        INDArray t = random(2, 2, 5, 7);
        assertEquals(FeatureReference.rkdAngle(s, t), FeatureChecks.value(rkd, s, t), 1e-14);
    }

    @Test
    void givenRandomFeatures_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(rkd, random(3, 2, 4, 3), random(4, 2, 4, 5), null);
        FeatureChecks.assertGradient(rkd, random(5, 2, 3, 2, 2, 2), random(6, 2, 3, 1, 2, 2), null);
        FeatureChecks.assertGradient(rkd, random(7, 2, 4, 2, 3), random(8, 2, 4, 2, 3),
                FeatureChecks.mask(4, 3, new int[] {0, 0}));
    }

    @Test
    void givenScaledShiftedStudentOrPermutedBatch_whenComputed_thenInvariant() {
        INDArray s = random(9, 2, 5, 3);
        INDArray t = random(10, 2, 5, 4);
        double base = FeatureChecks.value(rkd, s, t);
        assertEquals(base, FeatureChecks.value(rkd, s.mul(5).add(3), t), 1e-13);
        int[] order = {1, 4, 3, 0, 2};
        assertEquals(base, FeatureChecks.value(rkd, Nd4j.pullRows(s, 1, order), Nd4j.pullRows(t, 1, order)), 1e-13);
        assertEquals(0.0, FeatureChecks.value(rkd, s, s.mul(2).sub(1)), 1e-15);
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(rkd, random(11, 1, 3, 4), random(12, 1, 3, 2));
        FeatureChecks.assertFloat32MatchesFloat64(rkd, random(13, 3, 4, 6), random(14, 3, 4, 3));
        FeatureChecks.assertCatalogueEntry("RkdAngle", Map.of(), "RkdAngle()");
    }
}
