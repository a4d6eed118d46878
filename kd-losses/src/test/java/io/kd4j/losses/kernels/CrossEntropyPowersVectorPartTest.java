package io.kd4j.losses.kernels;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link CrossEntropyPowersTest}'s rule (a cross-entropy takes KD's or DKD's {@code q^n} only while the
 * student maximum is at most {@value VectorCrossEntropyTerm#SHIFT_LIMIT} above the shift) and the fused load
 * pass's bound, for a value read by the load pass's vector loop: these rows put one student or teacher value,
 * at class 20 (after the guess window, before the scalar tail, for 37 and 2,061 classes), on both sides of
 * those bounds, against the reference path. In the default execution the same cases check the scalar kernel.
 */
class CrossEntropyPowersVectorPartTest {

    record Case(String formula, int classes) {
        @Override
        public String toString() {
            return formula + " " + classes + " classes";
        }
    }

    static Stream<Case> cases() {
        Stream.Builder<Case> b = Stream.builder();
        for (String f : new String[] {
                "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)",
                "SoftTargetKl(temperature=2.0) + 0.5*CrossEntropy(labelSmoothing=0.1)",
                "CrossEntropy + Dkd(temperature=4.0, warmupEpochs=1.0)",
                "Dkd(temperature=2.0, nonTargetWeight=8.0, warmupEpochs=1.0) + 0.5*CrossEntropy(labelSmoothing=0.1)"}) {
            for (int c : new int[] {2061, 37}) {
                b.add(new Case(f, c));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenOneValueFarAboveItsRowsFirstValues_whenFused_thenValueAndGradientEqualTheReferencePath(Case tc) {
        // Given rows of six kinds (row % 6), with class 20 set above the largest of the first 16 values
        int n = 12;
        int c = tc.classes();
        Random rnd = new Random(c * 13L + tc.formula().length());
        double[] s = ReferenceCheck.logits(rnd, n * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, n * c, true, 3);
        for (int i = 0; i < n; i++) {
            int at = i * c + 20;
            switch (i % 6) {
                case 1 -> s[at] = (float) (guess(s, i) + 78); // within the cross-entropy's 80 at T = 2 and 4
                case 2 -> s[at] = (float) (guess(s, i) + 100); // beyond it: q^n would overflow (e^100)
                case 3 -> t[at] = (float) (guess(t, i) + 200); // teacher: 50 T-units at T = 4, beyond 64 at T = 2
                case 4 -> s[at] = (float) (guess(s, i) + 79.9); // at the edge
                case 5 -> s[at] = (float) (guess(s, i) + 300); // beyond the pair term's 64 T-units at T = 4
                default -> {
                }
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            // class 20 in rows 2 and 5: DKD's target far above its other classes (in rows 8 and 11 another class)
            labels[i] = i == 2 || i == 5 ? 20 : rnd.nextInt(c);
        }
        Objective objective = Objective.parse(tc.formula());
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, null,
                DataType.DOUBLE, "test"), 2);

        // When fused on off-heap float32 arrays
        INDArray ga = Nd4j.zeros(DataType.FLOAT, n, c);
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow()
                .evaluate(DenseRows.of(floats(s, n, c)), DenseRows.of(floats(t, n, c)), labels, null,
                        DenseRows.of(ga), 1.0 / n);

        // Then value, row values, gradient and terms equal the reference within float tolerance
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, null, n, c, true);
    }

    /** The largest of the first {@code GUESS_VALUES} values of row {@code i}. */
    private static double guess(double[] x, int i) {
        int c = x.length / 12;
        double g = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < VectorPairLoad.GUESS_VALUES; j++) {
            g = Math.max(g, x[i * c + j]);
        }
        return g;
    }

    private static INDArray floats(double[] x, int n, int c) {
        return Nd4j.create(x, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }
}
