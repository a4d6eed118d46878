package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The float32 vector kernel's fused load pass ({@link VectorPairLoad}) shifts the first pair term's
 * exponentials by the largest of a row's first {@value VectorPairLoad#GUESS_VALUES} values, and falls back
 * to the row maximum when the maximum is more than {@code SHIFT_LIMIT · T} above that guess. These rows
 * put the maximum on both sides of that rule, and at its edge, in off-heap float32 arrays (the inputs
 * the fused load reads), against the reference path. In the default (scalar) execution the same cases
 * check the scalar kernel.
 */
class GuessedShiftTest {

    record Case(String formula, double firstTemperature, int classes, boolean masked) {
        @Override
        public String toString() {
            return formula.replace("{r}", "class ranges") + " " + classes + " classes" + (masked ? " masked" : "");
        }
    }

    static Stream<Case> cases() {
        Stream.Builder<Case> b = Stream.builder();
        List<Object[]> formulas = List.of(
                new Object[] {"SoftTargetKl(temperature=4.0)", 4.0},
                new Object[] {"0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=1.0)", 1.0},
                new Object[] {"ReverseKl(temperature=2.0)", 2.0},
                new Object[] {"TotalVariation", 1.0},
                new Object[] {"GeneralizedJsd(teacherMixWeight=0.3, temperature=4.0)", 4.0},
                new Object[] {"0.5*CrossEntropy + 0.5*TotalVariation(temperature=3.0) + 0.5*ReverseKl", 3.0},
                new Object[] {"Dkd(temperature=4.0, warmupEpochs=1.0)", 4.0},
                // alone, DKD takes VectorBoundedLanes' loop, whose integer parts include the target; at T = 2
                // the rows 300 above their guesses overflow a float exponential unless they fall back
                new Object[] {"Dkd(temperature=2.0, nonTargetWeight=2.0, warmupEpochs=1.0)", 2.0},
                new Object[] {"0.5*CrossEntropy + Dkd(temperature=1.0, nonTargetWeight=2.0, warmupEpochs=1.0)", 1.0},
                new Object[] {"Ltkd(temperature=2.0, classGroups={g})", 2.0},
                new Object[] {"0.5*CrossEntropy + Ltkd(temperature=1.0, reweight=false, classGroups={g})", 1.0},
                new Object[] {"Ltkd(temperature=4.0, classGroups={r})", 4.0},
                new Object[] {"0.5*CrossEntropy + Ltkd(temperature=1.0, rebalance=false, classGroups={r})", 1.0});
        for (Object[] f : formulas) {
            // 2061: blocks and a vector tail; 37: a tail after the guess window; 12 and 5: all inside it
            for (int c : new int[] {2061, 37, 12, 5}) {
                b.add(new Case((String) f[0], (Double) f[1], c, c == 37));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenRowMaximaNearAndFarAboveTheFirstValues_whenFused_thenValueAndGradientEqualTheReferencePath(Case tc) {
        // Given rows of seven kinds (row % 7), for the first pair term's temperature T
        int n = 14;
        int c = tc.classes();
        double tau = tc.firstTemperature();
        Random rnd = new Random(c * 7L + tc.formula().length());
        double[] s = ReferenceCheck.logits(rnd, n * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, n * c, true, 3);
        double limit = VectorPairLoad.SHIFT_LIMIT * tau;
        for (int i = 0; i < n; i++) {
            int last = i * c + c - 1;
            switch (i % 7) {
                case 1 -> s[last - 2] = 200; // student maximum after the window, 200 above the rest
                case 2 -> t[last - 6 < i * c ? i * c : last - 6] = 300; // teacher maximum, 300 above the rest
                case 3 -> { // both maxima inside the window, far above the rest: most exponentials underflow
                    s[i * c + Math.min(3, c - 1)] = 200;
                    t[i * c + Math.min(3, c - 1)] = 200;
                }
                case 4 -> { // spread 40 in both rows
                    for (int j = 0; j < c; j++) {
                        s[i * c + j] = (float) (rnd.nextGaussian() * 40);
                        t[i * c + j] = (float) (rnd.nextGaussian() * 40);
                    }
                }
                case 5 -> s[last] = (float) (guess(s, i, c) + limit - 0.01 * tau); // just inside the limit
                case 6 -> t[last] = (float) (guess(t, i, c) + limit + 0.01 * tau); // just outside it
                default -> {
                }
            }
        }
        if (c > VectorPairLoad.GUESS_VALUES) {
            // the rows take both paths: exponentials shifted by the guess, and by the maximum
            assertTrue(fits(s, 5, c, limit) && fits(t, 5, c, limit) && fits(s, 0, c, limit), "rows within the limit");
            assertTrue(!fits(t, 6, c, limit) && !fits(t, 2, c, limit), "rows beyond the limit");
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = ReferenceCheck.argmax(i % 2 == 0 ? t : s, i, c);
        }
        boolean[] valid = ReferenceCheck.mask(n, tc.masked());
        int count = ReferenceCheck.count(valid, n);
        Objective objective = Objective.parse(tc.formula().replace("{g}", FusedDecoupledTest.groups(c, true))
                .replace("{r}", FusedDecoupledTest.ranges(c)));
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, valid,
                DataType.DOUBLE, "test"), 2);

        // When fused on off-heap float32 arrays
        INDArray sa = Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT);
        INDArray ta = Nd4j.create(t, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT);
        INDArray ga = Nd4j.zeros(DataType.FLOAT, n, c);
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow()
                .evaluate(DenseRows.of(sa), DenseRows.of(ta), labels, valid, DenseRows.of(ga), 1.0 / count);

        // Then value, row values, gradient and terms equal the reference within float tolerance
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, valid, n, c, true);
    }

    /** The largest of the first {@code GUESS_VALUES} values of row {@code i}. */
    private static double guess(double[] x, int i, int c) {
        double g = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < Math.min(c, VectorPairLoad.GUESS_VALUES); j++) {
            g = Math.max(g, x[i * c + j]);
        }
        return g;
    }

    /** Whether row {@code i}'s maximum is at most {@code limit} above its guess. */
    private static boolean fits(double[] x, int i, int c, double limit) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, x[i * c + j]);
        }
        return max - guess(x, i, c) <= limit;
    }
}
