package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fused top-k kernels ({@code SparseTopKKl}, {@code SparseTopKTvd}) against the reference path. The
 * teacher is given as {@code [k indices | k log-probabilities]} per row, as the DL4J adapter's packed
 * labels carry it. Runs twice in the build (scalar kernel, then vector kernel).
 */
class FusedSparseTest {

    /**
     * @param topK k (k = classes: no tail bin)
     * @param spread standard deviation of the logits (40: most classes underflow next to the top ones at T = 1)
     * @param peak added to the student's logits of the teacher's top-k classes: 200 puts the student's mass
     *     outside them below exp(-87) of its row maximum at T = 1, while the teacher's is not small
     * @param restPeak added to the student's logit of one class outside the top-k, after the first 16 (the
     *     values the vector kernel's load pass guesses its shift from): 100 puts it about 95 T above the
     *     guess at T = 1, beyond what the load pass's exponentials take
     */
    record Case(String formula, int rows, int classes, int topK, boolean float32, boolean masked, double spread,
                double peak, double restPeak) {
        Case(String formula, int rows, int classes, int topK, boolean float32, boolean masked, double spread) {
            this(formula, rows, classes, topK, float32, masked, spread, 0, 0);
        }

        @Override
        public String toString() {
            return formula + " " + rows + "x" + classes + " k=" + topK + (float32 ? " float32" : " float64")
                    + (masked ? " masked" : "") + " spread " + spread + (peak != 0 ? " peak " + peak : "")
                    + (restPeak != 0 ? " rest peak " + restPeak : "");
        }
    }

    static Stream<Case> cases() {
        List<String> formulas = List.of(
                "SparseTopKKl(temperature=2.0)",
                "0.2*CrossEntropy + 0.8*SparseTopKKl(temperature=4.0, teacherTemperature=1.0)",
                "SparseTopKTvd(temperature=1.5)",
                "0.5*SparseTopKKl + 0.5*SparseTopKTvd(temperature=2.0, teacherTemperature=2.0)");
        Stream.Builder<Case> b = Stream.builder();
        for (String f : formulas) {
            b.add(new Case(f, 9, 37, 5, true, false, 3));
            b.add(new Case(f, 7, 37, 37, true, true, 3));
            b.add(new Case(f, 5, 2061, 32, true, true, 3));
            b.add(new Case(f, 7, 37, 1, false, true, 3));
            b.add(new Case(f, 3, 2061, 32, false, false, 3));
            b.add(new Case(f, 4, 37, 37, false, false, 3));
            b.add(new Case(f, 6, 300, 8, true, false, 40));
            b.add(new Case(f, 4, 300, 8, false, true, 40));
            // many rows per chunk: the vector kernel writes a row's gradient while it reads the next row (for
            // a top-k term alone, from the formula that row left, with the top-k classes' additions; with 37
            // classes, a third of those in the scalar tail)
            b.add(new Case(f, 200, 2061, 32, true, true, 3));
            b.add(new Case(f, 200, 37, 5, true, false, 3));
        }
        for (String f : List.of("SparseTopKKl(temperature=1.0)", "SparseTopKTvd(temperature=1.0)")) {
            b.add(new Case(f, 6, 300, 8, true, false, 3, 200, 0));
            b.add(new Case(f, 4, 300, 8, false, false, 3, 200, 0));
            b.add(new Case(f, 6, 300, 8, true, false, 3, 0, 100));
            b.add(new Case(f, 200, 300, 8, true, true, 3, 0, 100));
            // the top-k classes 8 above the rest (spread 1): in every block of 1,024 classes that holds some of
            // them they hold most of the student's mass, so the vector kernel sums those blocks' other classes
            // again instead of subtracting the top-k classes from the block's sum
            b.add(new Case(f, 5, 2061, 32, true, true, 1, 8, 0));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenATopKTeacher_whenFused_thenValueGradientAndTermsEqualTheReferencePath(Case tc) {
        Random rnd = new Random(tc.rows() * 71L + tc.classes() + tc.topK());
        int n = tc.rows();
        int c = tc.classes();
        int k = tc.topK();
        double[] s = ReferenceCheck.logits(rnd, n * c, tc.float32(), tc.spread());
        double[] t = ReferenceCheck.logits(rnd, n * c, false, tc.spread());
        int[] labels = new int[n];
        int[] idx = new int[n * k];
        double[] lp = new double[n * k];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(c);
            topK(t, i, c, k, rnd, idx, lp, tc.float32());
            for (int j = 0; j < k; j++) {
                s[i * c + idx[i * k + j]] += tc.peak();
            }
            if (tc.restPeak() != 0) {
                s[i * c + outsideTopK(idx, i, k, 16 + i)] += tc.restPeak();
            }
        }
        boolean[] valid = ReferenceCheck.mask(n, tc.masked());
        Objective objective = Objective.parse(tc.formula());
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, null, labels, k, idx, lp, n, c, valid,
                DataType.DOUBLE, "ref"), 1.0);
        FusedObjective fused = FusedObjective.compile(objective, 1.0).orElseThrow();
        int count = ReferenceCheck.count(valid, n);
        // [k indices | k log-probabilities] per row
        double[] packed = new double[n * 2 * k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                packed[i * 2 * k + j] = idx[i * k + j];
                packed[i * 2 * k + k + j] = lp[i * k + j];
            }
        }
        if (tc.float32()) {
            // ND4J arrays: the vector kernel reads them and writes the gradient straight into the off-heap buffer
            // (NaN first: a row written late, never, or with another row's gradient fails)
            INDArray g = Nd4j.valueArrayOf(new long[] {n, c}, Float.NaN, DataType.FLOAT);
            FusedResult r = fused.evaluate(DenseRows.of(Nd4j.create(toFloat(s), new long[] {n, c}, 'c')),
                    DenseRows.wrap(toFloat(packed), n, 2 * k), labels, valid, DenseRows.of(g), 1.0 / count);
            ReferenceCheck.assertMatches(ref, r, g.data().asFloat(), null, valid, n, c, true);
        } else {
            double[] g = new double[n * c];
            FusedResult r = fused.evaluate(DenseRows.wrap(s, n, c), DenseRows.wrap(packed, n, 2 * k), labels, valid,
                    DenseRows.wrap(g, n, c), 1.0 / count);
            ReferenceCheck.assertMatches(ref, r, null, g, valid, n, c, false);
        }
    }

    /** The first class from {@code from} on that is not among row i's top-k classes. */
    private static int outsideTopK(int[] idx, int i, int k, int from) {
        int j = from;
        while (true) {
            int candidate = j;
            if (Arrays.stream(idx, i * k, i * k + k).noneMatch(x -> x == candidate)) {
                return j;
            }
            j++;
        }
    }

    /** Row i's k largest teacher classes in a shuffled order, with their log_softmax(t) (float-rounded if asked). */
    private static void topK(double[] t, int i, int c, int k, Random rnd, int[] idx, double[] lp, boolean float32) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, t[i * c + j]);
        }
        double sum = 0;
        for (int j = 0; j < c; j++) {
            sum += Math.exp(t[i * c + j] - max);
        }
        double lse = max + Math.log(sum);
        Integer[] order = IntStream.range(0, c).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(j -> -t[i * c + j]));
        List<Integer> chosen = Arrays.asList(Arrays.copyOf(order, k));
        java.util.Collections.shuffle(chosen, rnd);
        for (int j = 0; j < k; j++) {
            int cls = chosen.get(j);
            idx[i * k + j] = cls;
            double v = t[i * c + cls] - lse;
            lp[i * k + j] = float32 ? Math.min(0f, (float) v) : v;
        }
    }

    @ParameterizedTest(name = "{0} at class {1}")
    @CsvSource({"NaN, 9", "Infinity, 0", "-Infinity, 31", "NaN, 36"})
    void givenANonFiniteOffHeapStudentLogit_whenTopKIsFused_thenTheErrorNamesInputRowAndClass(float bad, int at) {
        // Given 2 rows of 37 off-heap student logits (the top-k load pass reads lanes [0, 32) and a scalar
        // tail) with one bad value in row 1, and a top-2 teacher: classes 0 and 1 at 0.5 and 0.25
        int c = 37;
        float[] s = new float[2 * c];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.sin(i);
        }
        s[c + at] = bad;
        float half = (float) Math.log(0.5);
        float quarter = (float) Math.log(0.25);
        float[] teacher = {0, 1, half, quarter, 0, 1, half, quarter};
        FusedObjective f = FusedObjective.compile(Objective.parse("SparseTopKKl(temperature=2.0)"), 1.0).orElseThrow();
        // When fused, Then the error names the input, the value, the row and the class
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.of(Nd4j.create(s, new long[] {2, c})), DenseRows.wrap(teacher, 2, 4), null, null, null, 1.0));
        assertEquals("student_logits must be finite, got " + bad + " at row 1, class " + at, e.getMessage());
    }

    @Test
    void givenDuplicateIndices_whenFused_thenTheErrorNamesIndexAndRow() {
        FusedObjective f = FusedObjective.compile(Objective.parse("SparseTopKKl"), 1.0).orElseThrow();
        float[] teacher = {2, 2, -1, -2};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[4], 1, 4), DenseRows.wrap(teacher, 1, 4), null, null, null, 1.0));
        assertEquals("teacher top-k indices must be distinct within a row, got 2 twice at row 0", e.getMessage());
    }

    @Test
    void givenAnIndexOutOfRange_whenFused_thenTheErrorNamesIndexAndRow() {
        FusedObjective f = FusedObjective.compile(Objective.parse("SparseTopKTvd"), 1.0).orElseThrow();
        float[] teacher = {0, 1, -1, -2, 1, 4, -1, -2};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[8], 2, 4), DenseRows.wrap(teacher, 2, 4), null, null, null, 1.0));
        assertEquals("teacher top-k indices must be integers in [0, 4), got 4.0 at row 1", e.getMessage());
    }

    @Test
    void givenPositiveLogProbabilities_whenFused_thenTheErrorNamesTheRule() {
        FusedObjective f = FusedObjective.compile(Objective.parse("SparseTopKKl"), 1.0).orElseThrow();
        float[] teacher = {0, 1, 0.5f, -2};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[4], 1, 4), DenseRows.wrap(teacher, 1, 4), null, null, null, 1.0));
        assertEquals("teacher top-k log-probabilities must be <= 0 and not NaN, got 0.5 at row 0", e.getMessage());
        float[] heavy = {0, 1, -0.1f, -0.2f}; // exp(-0.1) + exp(-0.2) = 1.7236 > 1
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                DenseRows.wrap(new float[4], 1, 4), DenseRows.wrap(heavy, 1, 4), null, null, null, 1.0));
        assertEquals(true, m.getMessage().startsWith("teacher top-k probabilities must sum to <= 1, got 1.72"),
                m.getMessage());
    }

    @Test
    void givenADenseAndASparseTerm_whenCompiled_thenRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FusedObjective.of(
                FusedTerm.softTargetKl(1, 2), FusedTerm.sparseTopKKl(1, 2, 0)));
        assertEquals(true, e.getMessage().startsWith("a fused objective reads either dense teacher logits or a top-k "
                + "teacher, not both"), e.getMessage());
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
