package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The DL4J adapter's fused path (identity activation, dense teacher) against the reference rows path. */
class FusedAdapterTest {

    @ParameterizedTest
    @ValueSource(strings = {"FLOAT", "DOUBLE"})
    void givenPackedLabelsAndAMask_whenTheAdapterRunsFused_thenPerExampleScoresAndGradientsEqualTheReference(String dt) {
        DataType type = DataType.valueOf(dt);
        int n = 6;
        int c = 53;
        Random rnd = new Random(3);
        double[] s = new double[n * c];
        double[] t = new double[n * c];
        int[] y = new int[n];
        INDArray packed = Nd4j.zeros(type, n, 2 * c + 1);
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(c);
            packed.putScalar(i, y[i], 1.0);
            for (int j = 0; j < c; j++) {
                s[i * c + j] = (float) (rnd.nextGaussian() * 2);
                t[i * c + j] = (float) (rnd.nextGaussian() * 2);
                packed.putScalar(i, c + j, t[i * c + j]);
            }
            packed.putScalar(i, 2 * c, 3.0); // epoch 3: the schedule below is at T = 2.5
        }
        boolean[] valid = {true, false, true, true, false, true};
        INDArray mask = Nd4j.create(new double[] {1, 0, 1, 1, 0, 1}, new long[] {n, 1}, type);
        String formula = "0.2*CrossEntropy + 0.8*SoftTargetKl(temperature=4.0, temperatureSchedule=linear, "
                + "temperatureEnd=1.0, temperatureEpochs=4.0)";
        Objective objective = Objective.parse(formula);
        DistillationLossFunction f = DistillationLossFunction.of(objective, TargetLayout.dense(c));
        INDArray pre = Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(type);

        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, y, 0, null, null, n, c, valid, DataType.DOUBLE,
                "ref"), 3.0);
        double tol = type == DataType.FLOAT ? 2e-5 : 1e-10;
        double[] scores = f.computeScoreArray(packed, pre, new ActivationIdentity(), mask).castTo(DataType.DOUBLE)
                .data().asDouble();
        double[] grad = f.computeGradient(packed, pre, new ActivationIdentity(), mask).castTo(DataType.DOUBLE).data()
                .asDouble();
        int count = 4;
        for (int i = 0, j = 0; i < n; i++) {
            double[] expectedRow = new double[c];
            if (valid[i]) {
                assertEquals(ref.rowValues()[j], scores[i], tol * Math.max(1, Math.abs(scores[i])), "score row " + i);
                for (int k = 0; k < c; k++) {
                    expectedRow[k] = ref.gradient()[j * c + k] * count; // DL4J divides by the minibatch itself
                }
                j++;
            } else {
                assertEquals(0.0, scores[i], 0.0);
            }
            double[] actualRow = java.util.Arrays.copyOfRange(grad, i * c, (i + 1) * c);
            assertArrayEquals(expectedRow, actualRow, tol, "gradient row " + i);
        }
        Pair<Double, INDArray> both = f.computeGradientAndScore(packed, pre, new ActivationIdentity(), mask, true);
        assertEquals(ref.value() * count / n, both.getFirst(), tol);
        assertEquals(ref.terms().get("SoftTargetKl"), f.lastTerms().get("SoftTargetKl"), tol);
    }
}
