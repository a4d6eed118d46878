package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The DL4J adapter's fused path (identity activation, packed labels read in place) against the
 * reference rows path, for a dense teacher block and for a top-k one.
 */
class FusedAdapterTest {

    /** @param topK 0: dense teacher block; else the k of the packed top-k block */
    record Case(String formula, int topK, String dataType) {
        @Override
        public String toString() {
            return formula.replaceAll("classGroups=[a-z;]+", "classGroups=...") + (topK > 0 ? " top-" + topK : "")
                    + " " + dataType;
        }
    }

    private static final int CLASSES = 53;

    static Stream<Case> cases() {
        String groups = FusedDecoupledTest.groups(CLASSES, true);
        Stream.Builder<Case> b = Stream.builder();
        for (String dt : new String[] {"FLOAT", "DOUBLE"}) {
            b.add(new Case("0.2*CrossEntropy + 0.8*SoftTargetKl(temperature=4.0, temperatureSchedule=linear, "
                    + "temperatureEnd=1.0, temperatureEpochs=4.0)", 0, dt));
            b.add(new Case("0.5*CrossEntropy + 0.5*Dkd(temperature=2.0, warmupEpochs=6.0)", 0, dt));
            b.add(new Case("Ltkd(temperature=2.0, classGroups=" + groups + ")", 0, dt));
            b.add(new Case("0.1*CrossEntropy + 0.9*SparseTopKKl(temperature=2.0, teacherTemperature=1.0)", 7, dt));
            b.add(new Case("SparseTopKTvd(temperature=1.0)", 7, dt));
            b.add(new Case("0.1*CrossEntropy + 9*SoftTargetKl(temperature=2.0, standardize=true)", 0, dt));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenPackedLabelsAndAMask_whenTheAdapterRunsFused_thenPerExampleScoresAndGradientsEqualTheReference(Case tc) {
        DataType type = DataType.valueOf(tc.dataType());
        int n = 6;
        int c = CLASSES;
        int k = tc.topK();
        TargetLayout layout = new TargetLayout(c, k);
        Random rnd = new Random(3);
        double[] s = new double[n * c];
        double[] t = new double[n * c];
        int[] y = new int[n];
        int[] idx = k > 0 ? new int[n * k] : null;
        double[] lp = k > 0 ? new double[n * k] : null;
        INDArray packed = Nd4j.zeros(type, n, layout.width());
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(c);
            packed.putScalar(i, y[i], 1.0);
            for (int j = 0; j < c; j++) {
                s[i * c + j] = (float) (rnd.nextGaussian() * 2);
                t[i * c + j] = (float) (rnd.nextGaussian() * 2);
                if (k == 0) {
                    packed.putScalar(i, c + j, t[i * c + j]);
                }
            }
            for (int j = 0; j < k; j++) {
                // classes 5i .. 5i+k-1 with probability 0.09 each: 1 - 0.63 left for the rest
                idx[i * k + j] = (5 * i + j) % c;
                lp[i * k + j] = (float) Math.log(0.09);
                packed.putScalar(i, c + j, idx[i * k + j]);
                packed.putScalar(i, c + k + j, lp[i * k + j]);
            }
            packed.putScalar(i, layout.epochColumn(), 3.0); // epoch 3: T = 2.5 for the schedule above
        }
        boolean[] valid = {true, false, true, true, false, true};
        INDArray mask = Nd4j.create(new double[] {1, 0, 1, 1, 0, 1}, new long[] {n, 1}, type);
        Objective objective = Objective.parse(tc.formula());
        DistillationLossFunction f = DistillationLossFunction.of(objective, layout);
        INDArray pre = Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(type);

        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, k == 0 ? t : null, y, k, idx, lp, n, c, valid,
                DataType.DOUBLE, "ref"), 3.0);
        double tol = type == DataType.FLOAT ? 2e-5 : 1e-10;
        double[] scores = f.computeScoreArray(packed, pre, new ActivationIdentity(), mask).castTo(DataType.DOUBLE)
                .data().asDouble();
        double[] grad = f.computeGradient(packed, pre, new ActivationIdentity(), mask).castTo(DataType.DOUBLE).data()
                .asDouble();
        int count = 4;
        for (int i = 0, j = 0; i < n; i++) {
            double[] expectedRow = new double[c];
            if (valid[i]) {
                // a batch-coupled objective (LTKD's rebalancing) gives every example the batch value
                double expected = ref.rowValues() == null ? ref.value() : ref.rowValues()[j];
                assertEquals(expected, scores[i], tol * Math.max(1, Math.abs(scores[i])), "score row " + i);
                for (int m = 0; m < c; m++) {
                    expectedRow[m] = ref.gradient()[j * c + m] * count; // DL4J divides by the minibatch itself
                }
                j++;
            } else {
                assertEquals(0.0, scores[i], 0.0);
            }
            double[] actualRow = java.util.Arrays.copyOfRange(grad, i * c, (i + 1) * c);
            assertArrayEquals(expectedRow, actualRow, tol, "gradient row " + i);
        }
        assertTrue(f.lastEvaluationFused(), "the fast path must have run");
        Pair<Double, INDArray> both = f.computeGradientAndScore(packed, pre, new ActivationIdentity(), mask, true);
        assertEquals(ref.value() * count / n, both.getFirst(), tol * Math.max(1, Math.abs(ref.value())));
        for (var e : ref.terms().entrySet()) {
            assertTrue(f.lastTerms().containsKey(e.getKey()), "term " + e.getKey());
            assertEquals(e.getValue(), f.lastTerms().get(e.getKey()), tol * Math.max(1, Math.abs(e.getValue())),
                    "term " + e.getKey());
        }
    }
}
