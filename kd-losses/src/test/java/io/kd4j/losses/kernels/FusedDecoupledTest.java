package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The fused DKD and LTKD kernels against the reference path ({@code Dkd}, {@code Ltkd} on double rows).
 * Runs twice in the build, like {@link FusedObjectiveTest}: scalar kernel, then vector kernel.
 */
class FusedDecoupledTest {

    /**
     * @param spread standard deviation of the logits; 40 puts most exponent arguments below -87 at T = 1
     * @param peak added to the target's logits (DKD) and to the head classes' (LTKD), teacher and student:
     *     200 puts every other class (group) below exp(-87) of the row maximum at T = 1
     */
    record Case(String formula, int rows, int classes, boolean float32, boolean masked, double spread, double peak) {
        Case(String formula, int rows, int classes, boolean float32, boolean masked, double spread) {
            this(formula, rows, classes, float32, masked, spread, 0);
        }

        @Override
        public String toString() {
            return formula.replaceAll("classGroups=[a-z;]+", "classGroups=...") + " " + rows + "x" + classes
                    + (float32 ? " float32" : " float64") + (masked ? " masked" : "") + " spread " + spread
                    + (peak != 0 ? " peak " + peak : "");
        }
    }

    /** Groups by class index: j mod 5 in {0, 1} head, {2, 3} medium, 4 tail; or only head and tail. */
    static String groups(int c, boolean withMedium) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < c; j++) {
            int m = j % 5;
            String g = withMedium ? (m < 2 ? "head" : m < 4 ? "medium" : "tail") : (m < 3 ? "head" : "tail");
            b.append(j == 0 ? "" : ";").append(g);
        }
        return b.toString();
    }

    /**
     * Groups as class ranges: the first 53 % of the classes head, the next 30 % medium, the rest tail. At
     * 2,061 classes the first block of {@value RowKernel#BLOCK} classes is all head (the vector kernel
     * takes its sums from the load pass and its gradient without the group codes), the second holds all
     * three groups.
     */
    static String ranges(int c) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < c; j++) {
            b.append(j == 0 ? "" : ";").append(j < 0.53 * c ? "head" : j < 0.83 * c ? "medium" : "tail");
        }
        return b.toString();
    }

    static Stream<Case> cases() {
        List<String> formulas = List.of(
                "Dkd(temperature=4.0, warmupEpochs=5.0)",
                "0.3*CrossEntropy + 0.7*Dkd(targetWeight=2.0, nonTargetWeight=0.5, temperature=2.0)",
                "Dkd(temperature=2.0, nonTargetWeight=8.0, standardize=true)",
                "Ltkd(temperature=2.0, classGroups={g})",
                "Ltkd(temperature=4.0, rebalance=false, reweight=false, classGroups={g})",
                "Ltkd(temperature=1.0, reweight=false, classGroups={g})",
                "0.5*SoftTargetKl(temperature=2.0) + 0.5*Ltkd(temperature=1.0, crossGroupWeight=2.0, classGroups={h})");
        Stream.Builder<Case> b = Stream.builder();
        for (String f : formulas) {
            b.add(new Case(f, 9, 37, true, false, 3));
            b.add(new Case(f, 5, 2061, true, true, 3));
            b.add(new Case(f, 7, 37, false, true, 3));
            b.add(new Case(f, 3, 2061, false, false, 3));
            b.add(new Case(f, 6, 300, true, false, 40));
            b.add(new Case(f, 4, 300, false, true, 40));
        }
        for (String f : List.of("Dkd(temperature=1.0, warmupEpochs=1.0)", "Ltkd(temperature=1.0, classGroups={g})",
                "Ltkd(temperature=1.0, rebalance=false, reweight=false, classGroups={g})")) {
            b.add(new Case(f, 6, 300, true, false, 3, 200));
            b.add(new Case(f, 4, 300, false, false, 3, 200));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenRandomLogits_whenFused_thenValueGradientRowValuesAndPartsEqualTheReferencePath(Case tc) {
        Random rnd = new Random(tc.rows() * 131L + tc.classes());
        int n = tc.rows();
        int c = tc.classes();
        double[] s = ReferenceCheck.logits(rnd, n * c, tc.float32(), tc.spread());
        double[] t = ReferenceCheck.logits(rnd, n * c, tc.float32(), tc.spread());
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            // the target is often the teacher's or the student's top class, as in training
            labels[i] = i % 3 == 0 ? ReferenceCheck.argmax(t, i, c) : i % 3 == 1 ? ReferenceCheck.argmax(s, i, c)
                    : rnd.nextInt(c);
        }
        for (int i = 0; i < n && tc.peak() != 0; i++) {
            for (int j = 0; j < c; j++) {
                boolean dkdTarget = tc.formula().startsWith("Dkd") && j == labels[i];
                boolean head = tc.formula().startsWith("Ltkd") && j % 5 < 2;
                if (dkdTarget || head) {
                    s[i * c + j] += tc.peak();
                    t[i * c + j] += tc.peak();
                }
            }
        }
        boolean[] valid = ReferenceCheck.mask(n, tc.masked());
        double epoch = 2.5;
        Objective objective = Objective.parse(tc.formula().replace("{g}", groups(c, true)).replace("{h}",
                groups(c, false)));
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, valid, DataType.DOUBLE,
                "ref"), epoch);
        FusedObjective fused = FusedObjective.compile(objective, epoch).orElseThrow();
        int count = ReferenceCheck.count(valid, n);
        FusedResult r;
        if (tc.float32()) {
            float[] sf = toFloat(s);
            float[] tf = toFloat(t);
            // ND4J arrays: the vector kernel reads them and writes the gradient straight into the off-heap buffer
            INDArray g = Nd4j.createUninitialized(DataType.FLOAT, n, c);
            r = fused.evaluate(DenseRows.of(Nd4j.create(sf, new long[] {n, c}, 'c')),
                    DenseRows.of(Nd4j.create(tf, new long[] {n, c}, 'c')), labels, valid, DenseRows.of(g), 1.0 / count);
            ReferenceCheck.assertMatches(ref, r, g.data().asFloat(), null, valid, n, c, true);
        } else {
            double[] g = new double[n * c];
            r = fused.evaluate(DenseRows.wrap(s, n, c), DenseRows.wrap(t, n, c), labels, valid, DenseRows.wrap(g, n, c),
                    1.0 / count);
            ReferenceCheck.assertMatches(ref, r, null, g, valid, n, c, false);
        }
    }

    @Test
    void givenDkdAtEpochZero_whenFused_thenValueAndGradientAreZero() {
        // warm-up factor min(0 / 20, 1) = 0: DKD contributes nothing yet
        FusedObjective f = FusedObjective.compile(Objective.parse("Dkd"), 0.0).orElseThrow();
        float[] s = {1, 2, 3, 4};
        float[] t = {4, 3, 2, 1};
        float[] g = new float[4];
        FusedResult r = f.evaluate(DenseRows.wrap(s, 1, 4), DenseRows.wrap(t, 1, 4), new int[] {2}, null,
                DenseRows.wrap(g, 1, 4), 1.0);
        assertEquals(0.0, r.value(), 0.0);
        assertEquals(0.0, r.terms().get("Dkd.tckd"), 0.0);
        for (float v : g) {
            assertEquals(0f, v, 0f);
        }
    }

    @Test
    void givenOneClass_whenDkdIsFused_thenTheErrorSaysItNeedsTwo() {
        FusedObjective f = FusedObjective.compile(Objective.parse("Dkd"), 1.0).orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[] {1}, 1, 1), DenseRows.wrap(new float[] {2}, 1, 1), new int[] {0}, null, null,
                1.0));
        assertEquals("Dkd: needs at least 2 classes (a target and a non-target), got 1", e.getMessage());
    }

    @Test
    void givenGroupsForOtherClassCount_whenLtkdIsFused_thenTheErrorNamesTheParameter() {
        FusedObjective f = FusedObjective.compile(Objective.parse("Ltkd(classGroups=head;tail)"), 1.0).orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[3], 1, 3), DenseRows.wrap(new float[3], 1, 3), null, null, null, 1.0));
        assertEquals("Ltkd: classGroups has 2 entries but the logits have 3 classes", e.getMessage());
    }

    @Test
    void givenTeacherEqualToStudentWithoutRebalancing_whenLtkdIsFused_thenZero() {
        // rebalance=false: P^ = P = Q and p|g = q|g, so both KLs are 0 and so is the gradient
        FusedObjective f = FusedObjective.compile(Objective.parse("Ltkd(rebalance=false, classGroups="
                + groups(53, true) + ")"), 1.0).orElseThrow();
        float[] x = new float[2 * 53];
        Random rnd = new Random(9);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 4);
        }
        float[] g = new float[x.length];
        FusedResult r = f.evaluate(DenseRows.wrap(x, 2, 53), DenseRows.wrap(x.clone(), 2, 53), null, null,
                DenseRows.wrap(g, 2, 53), 0.5);
        assertEquals(0.0, r.value(), 1e-6);
        for (float v : g) {
            assertEquals(0f, v, 1e-7f);
        }
        assertTrue(r.rowValues() != null, "without rebalancing LTKD has per-row values");
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
