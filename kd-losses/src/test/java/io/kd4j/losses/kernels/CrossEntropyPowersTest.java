package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cross-entropy next to a soft-target KL or DKD term at an integer temperature {@code n}: the float32 vector
 * kernel takes the cross-entropy's exponentials as {@code q^n} from that term's
 * ({@link VectorCrossEntropyTerm#fromPowers}; DKD's target class, left out of its {@code q}, separately)
 * while the student maximum is at most {@value VectorCrossEntropyTerm#SHIFT_LIMIT} above the term's shift.
 * These rows put the maximum on both sides of that rule and at the fused load pass's own limit, in
 * objectives where the rule applies and where it must not (a non-integer or standardized KL term, another
 * term between them), on off-heap and on-heap rows, against the reference path. In the default execution
 * the same cases check the scalar kernel, which takes {@code q^n} from its own max-shifted exponentials
 * whenever a cross-entropy and a soft-target KL term are next to each other (in either order), with no
 * bound.
 */
class CrossEntropyPowersTest {

    record Case(String formula, int classes, boolean masked, boolean offHeap) {
        @Override
        public String toString() {
            return formula + " " + classes + " classes" + (masked ? " masked" : "") + (offHeap ? "" : " on-heap");
        }
    }

    static Stream<Case> cases() {
        List<String> formulas = List.of(
                "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)",
                "SoftTargetKl(temperature=2.0) + 0.5*CrossEntropy(labelSmoothing=0.1)",
                "0.5*CrossEntropy + SoftTargetKl(temperature=3.0) + 0.5*ReverseKl",
                "CrossEntropy(labelSmoothing=0.2) + SoftTargetKl(temperature=8.0)",
                "CrossEntropy + 2*SoftTargetKl(temperature=1.0)",
                "0.5*CrossEntropy + SoftTargetKl(temperature=2.5)",
                "0.5*ReverseKl + 0.5*CrossEntropy + SoftTargetKl(temperature=2.0)",
                "SoftTargetKl(temperature=4.0, standardize=true) + CrossEntropy",
                "CrossEntropy + Dkd(temperature=4.0, warmupEpochs=1.0)",
                "Dkd(temperature=2.0, nonTargetWeight=8.0, warmupEpochs=1.0) + 0.5*CrossEntropy(labelSmoothing=0.1)",
                "0.5*CrossEntropy + Dkd(temperature=1.0, nonTargetWeight=2.0, warmupEpochs=1.0) + 0.5*ReverseKl");
        Stream.Builder<Case> b = Stream.builder();
        for (String f : formulas) {
            // 2061: blocks and a vector tail; 37: a tail after the guess window; 12: all inside it
            for (int c : new int[] {2061, 37, 12}) {
                b.add(new Case(f, c, c == 37, true));
            }
            b.add(new Case(f, 2061, false, false));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenStudentMaximaNearTheLimitAboveTheShift_whenFused_thenValueAndGradientEqualTheReferencePath(Case tc) {
        // Given rows of seven kinds (row % 7)
        int n = 14;
        int c = tc.classes();
        Random rnd = new Random(c * 11L + tc.formula().length());
        double[] s = ReferenceCheck.logits(rnd, n * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, n * c, true, 3);
        double limit = VectorCrossEntropyTerm.SHIFT_LIMIT;
        for (int i = 0; i < n; i++) {
            int last = i * c + c - 1;
            switch (i % 7) {
                case 1 -> s[last] = (float) (guess(s, i, c) + limit - 0.1); // just inside the powers' limit
                case 2 -> s[last] = (float) (guess(s, i, c) + limit + 0.1); // just outside it
                case 3 -> { // spread 40: most powers below the float floor
                    for (int j = 0; j < c; j++) {
                        s[i * c + j] = (float) (rnd.nextGaussian() * 40);
                    }
                }
                case 4 -> s[i * c + Math.min(3, c - 1)] = 200; // student maximum in the window, 200 above the rest
                case 5 -> t[last] = 300; // teacher maximum 300 above the rest
                case 6 -> s[last] = (float) (guess(s, i, c) + 120); // q^n would overflow for n >= 2
                default -> {
                }
            }
        }
        if (c > VectorPairLoad.GUESS_VALUES) {
            assertTrue(above(s, 1, c) <= limit && above(s, 2, c) > limit && above(s, 6, c) > 88,
                    "rows on both sides of the limit, and where exp overflows");
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            // the student's top class in rows 0, 4 (DKD's target 200 above its other classes), 8 and 12
            labels[i] = i % 4 == 0 ? ReferenceCheck.argmax(s, i, c) : rnd.nextInt(c);
        }
        boolean[] valid = ReferenceCheck.mask(n, tc.masked());
        int count = ReferenceCheck.count(valid, n);
        Objective objective = Objective.parse(tc.formula());
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, valid,
                DataType.DOUBLE, "test"), 2);

        // When fused on float32 rows (off-heap arrays: the fused load pass; Java arrays: the separate one)
        float[] gradient;
        FusedResult r;
        FusedObjective fused = FusedObjective.compile(objective, 2).orElseThrow();
        if (tc.offHeap()) {
            INDArray ga = Nd4j.zeros(DataType.FLOAT, n, c);
            r = fused.evaluate(DenseRows.of(floats(s, n, c)), DenseRows.of(floats(t, n, c)), labels, valid,
                    DenseRows.of(ga), 1.0 / count);
            gradient = ga.data().asFloat();
        } else {
            gradient = new float[n * c];
            r = fused.evaluate(DenseRows.wrap(toFloat(s), n, c), DenseRows.wrap(toFloat(t), n, c), labels, valid,
                    DenseRows.wrap(gradient, n, c), 1.0 / count);
        }

        // Then value, row values, gradient and terms equal the reference within float tolerance
        ReferenceCheck.assertMatches(ref, r, gradient, null, valid, n, c, true);
    }

    @Test
    void givenTermPairs_whenAskedForTheCrossEntropysPower_thenItIsTheKlTermsIntegerTemperatureUpToEight() {
        // Given a cross-entropy and KL terms at several temperatures
        FusedTerm ce = FusedTerm.crossEntropy(0.1, 0.2);
        // When the power is asked for, Then it is the temperature, or 0 where the rule does not apply
        assertEquals(4, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 4.0), ce), "T = 4");
        assertEquals(1, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 1.0), ce), "T = 1");
        assertEquals(8, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 8.0), ce), "T = 8");
        assertEquals(0, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 9.0), ce), "T = 9");
        assertEquals(0, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 2.5), ce), "T = 2.5");
        assertEquals(0, RowKernel.cePower(FusedTerm.softTargetKl(0.9, 0.5), ce), "T = 0.5");
        assertEquals(0, RowKernel.cePower(ce, FusedTerm.softTargetKl(0.9, 4.0)), "the terms swapped");
        assertEquals(0, RowKernel.cePower(FusedTerm.reverseKl(1, 2.0), ce), "reverse KL");
        assertEquals(0, RowKernel.cePower(FusedTerm.softTargetKl(1, 2.0), FusedTerm.softTargetKl(1, 1.0)), "two KL terms");
        assertEquals(0, RowKernel.cePower(FusedTerm.softTargetKl(1, 2.0).standardized(), ce), "standardized");
    }

    @Test
    void givenTheVectorKernelsRowOrder_whenAskedForTheCrossEntropysPower_thenOnlyACrossEntropyRightAfterTheFirstTermGetsIt() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "no jdk.incubator.vector");
        // Given objectives in both orders (the row's order: the fused load pass's term first, then the rest)
        FusedTerm ce = FusedTerm.crossEntropy(0.1, 0.0);
        FusedTerm kd4 = FusedTerm.softTargetKl(0.9, 4.0);
        FusedTerm dkd2 = FusedTerm.dkd(1.0, 2.0, 1.0, 8.0, 1.0);
        FusedTerm rkl = FusedTerm.reverseKl(0.5, 2.0);
        // When the power is asked for, Then it is the temperature, or 0 where the rule does not apply
        assertEquals(4, VectorCrossEntropyTerm.companionPower(batch(ce, kd4), 1), "CE + KD, KD fused first");
        assertEquals(4, VectorCrossEntropyTerm.companionPower(batch(kd4, ce), 0), "KD + CE");
        assertEquals(4, VectorCrossEntropyTerm.companionPower(batch(kd4, ce), -1), "KD + CE, no fused load");
        assertEquals(4, VectorCrossEntropyTerm.companionPower(batch(ce, kd4, rkl), 1), "CE + KD + reverse KL");
        assertEquals(2, VectorCrossEntropyTerm.companionPower(batch(ce, dkd2), 1), "CE + DKD");
        assertEquals(0, VectorCrossEntropyTerm.companionPower(batch(ce, kd4), -1), "CE first");
        assertEquals(0, VectorCrossEntropyTerm.companionPower(batch(kd4, rkl, ce), 0), "a term between");
        assertEquals(0, VectorCrossEntropyTerm.companionPower(batch(rkl, ce, kd4), 0), "reverse KL fused first");
        assertEquals(0, VectorCrossEntropyTerm.companionPower(batch(kd4), 0), "KD alone");
    }

    @Test
    void givenAStudentMaximumFarAboveTheFirstTermsShift_whenItHandsOverItsGradient_thenItDeclinesBeyondTheLimit() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "no jdk.incubator.vector");
        // Given a kernel whose cross-entropy would take powers of 4, the row's student maximum 80 above the shift
        VectorRowKernel k = new VectorRowKernel();
        k.cePower = 4;
        k.studentMax = 81f;
        // When the first term offers its gradient at that limit, Then it is taken over
        assertTrue(VectorCrossEntropyTerm.defer(k, 1f, 0.5f, -0.25f, 3, 0.125f), "at the limit");
        assertEquals(4, k.cePower);
        assertEquals(1f, k.qShift);
        assertEquals(3, k.deferTarget);
        // When the maximum is just beyond it, Then the term keeps its gradient and the powers are off
        k.studentMax = 81.5f;
        assertTrue(!VectorCrossEntropyTerm.defer(k, 1f, 0.5f, -0.25f, -1, 0f), "beyond the limit");
        assertEquals(0, k.cePower);
        assertTrue(!VectorCrossEntropyTerm.defer(k, 1f, 0.5f, -0.25f, -1, 0f), "no cross-entropy waiting");
    }

    private static Batch batch(FusedTerm... terms) {
        DenseRows rows = DenseRows.wrap(new float[4], 1, 4);
        return new Batch(rows, rows, null, 1.0, terms, new int[terms.length], new double[terms.length][], 0);
    }

    /** How far row {@code i}'s maximum is above the largest of its first {@code GUESS_VALUES} values. */
    private static double above(double[] x, int i, int c) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, x[i * c + j]);
        }
        return max - guess(x, i, c);
    }

    private static double guess(double[] x, int i, int c) {
        double g = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < Math.min(c, VectorPairLoad.GUESS_VALUES); j++) {
            g = Math.max(g, x[i * c + j]);
        }
        return g;
    }

    private static INDArray floats(double[] x, int n, int c) {
        return Nd4j.create(x, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
