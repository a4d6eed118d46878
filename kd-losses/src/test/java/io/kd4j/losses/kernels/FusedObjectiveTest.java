package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The fused kernels against the reference path (the catalogue classes on {@link LogitRows}, double
 * precision). This class runs twice in the build: once without {@code jdk.incubator.vector} (the
 * scalar kernel is selected automatically) and once with it and {@code -Dkd4j.kernels=vector}.
 */
class FusedObjectiveTest {

    record Case(String formula, int rows, int classes, boolean float32, boolean masked) {
        @Override
        public String toString() {
            return formula + " " + rows + "x" + classes + (float32 ? " float32" : " float64") + (masked ? " masked" : "");
        }
    }

    static Stream<Case> cases() {
        List<String> formulas = List.of(
                "SoftTargetKl(temperature=4.0)",
                "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)",
                "CrossEntropy(labelSmoothing=0.1)",
                "ReverseKl(temperature=2.0)",
                "TotalVariation",
                "0.5*TotalVariation(temperature=3.0) + 0.5*ReverseKl",
                "GeneralizedJsd(teacherMixWeight=0.3, temperature=2.0)",
                "JensenShannon",
                "GeneralizedJsd(teacherMixWeight=0.0, temperature=1.5)",
                "GeneralizedJsd(teacherMixWeight=1.0)",
                "SoftTargetKl(temperature=4.0, temperatureSchedule=linear, temperatureEnd=1.0, temperatureEpochs=4)",
                "SoftTargetKl(temperature=2.0, standardize=true)",
                "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0, standardize=true) + 0.5*ReverseKl");
        Stream.Builder<Case> b = Stream.builder();
        for (String f : formulas) {
            // 37 classes: a vector tail; 2061: more than one accumulation block plus a tail
            b.add(new Case(f, 9, 37, true, false));
            b.add(new Case(f, 5, 2061, true, true));
            b.add(new Case(f, 7, 37, false, true));
            b.add(new Case(f, 3, 2061, false, false));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenRandomLogits_whenFused_thenValueAndGradientEqualTheReferencePath(Case tc) {
        Random rnd = new Random(tc.rows() * 31L + tc.classes());
        int n = tc.rows();
        int c = tc.classes();
        double[] s = logits(rnd, n * c, tc.float32());
        double[] t = logits(rnd, n * c, tc.float32());
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(c);
        }
        boolean[] valid = null;
        int count = n;
        if (tc.masked()) {
            valid = new boolean[n];
            count = 0;
            for (int i = 0; i < n; i++) {
                valid[i] = i % 3 != 1;
                count += valid[i] ? 1 : 0;
            }
        }
        double epoch = 2.5;
        Objective objective = Objective.parse(tc.formula());
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, valid,
                DataType.DOUBLE, "test"), epoch);

        FusedObjective fused = FusedObjective.compile(objective, epoch).orElseThrow();
        DataType type = tc.float32() ? DataType.FLOAT : DataType.DOUBLE;
        INDArray sa = Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(type);
        INDArray ta = Nd4j.create(t, new long[] {n, c}, DataType.DOUBLE).castTo(type);
        INDArray ga = Nd4j.createUninitialized(type, n, c);
        FusedResult r = fused.evaluate(DenseRows.of(sa), DenseRows.of(ta), labels, valid, DenseRows.of(ga), 1.0 / count);

        double valueTol = tc.float32() ? 2e-5 * Math.max(1, Math.abs(ref.value())) : 1e-10;
        assertEquals(ref.value(), r.value(), valueTol, "value");
        assertEquals(count, r.validRows());
        double[] expected = scatter(ref.gradient(), valid, n, c);
        double scale = maxAbs(expected);
        double gradTol = tc.float32() ? 2e-5 * scale + 1e-9 : 1e-10 * scale + 1e-15;
        assertArrayEquals(expected, ga.castTo(DataType.DOUBLE).data().asDouble(), gradTol, "gradient");
        for (var e : ref.terms().entrySet()) {
            assertEquals(e.getValue(), r.terms().get(e.getKey()), valueTol, "term " + e.getKey());
        }
        // value-only evaluation: same value, no gradient written
        FusedResult valueOnly = fused.evaluate(DenseRows.of(sa), DenseRows.of(ta), labels, valid, null, 1.0);
        assertEquals(r.value(), valueOnly.value(), 0.0);
    }

    @Test
    void givenTheBuildsKernelProperty_whenKernelsAreSelected_thenTheExpectedPathIsActive() {
        String forced = System.getProperty(Kernels.PROPERTY, "auto");
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        String expected = forced.equals("scalar") || !module ? "scalar" : "vector";
        assertEquals(expected, Kernels.active(), Kernels.describe());
        if (forced.equals("vector")) {
            assertEquals("vector", Kernels.active(), "this execution must exercise the vector kernel");
            assertTrue(Kernels.describe().contains("float lanes") && Kernels.describe().contains("double lanes"),
                    "float32 and float64 both on the Vector API: " + Kernels.describe());
        }
    }

    @Test
    void givenAPackedLabelArray_whenColumnsAreViewed_thenTeacherAndOneHotBlocksAreRead() {
        // packed [one-hot(4) | teacher(4) | epoch]; the loss on it must equal the loss on separate arrays
        int n = 3;
        int c = 4;
        float[] s = {1, 2, 3, 4, 0, 0, 1, 0, -1, 2, 0.5f, 0};
        float[] t = {4, 3, 2, 1, 1, 1, 1, 1, 0, 0, 3, 0};
        int[] labels = {2, 0, 3};
        INDArray packed = Nd4j.zeros(DataType.FLOAT, n, 2 * c + 1);
        for (int i = 0; i < n; i++) {
            packed.putScalar(i, labels[i], 1.0);
            for (int j = 0; j < c; j++) {
                packed.putScalar(i, c + j, t[i * c + j]);
            }
            packed.putScalar(i, 2 * c, 1.0);
        }
        FusedObjective f = FusedObjective.compile(Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)"), 1)
                .orElseThrow();
        INDArray sa = Nd4j.create(s, new long[] {n, c}, 'c');
        FusedResult fromPacked = f.evaluateOneHot(DenseRows.of(sa), DenseRows.columns(packed, c, c),
                DenseRows.columns(packed, 0, c), null, null, 1.0);
        FusedResult separate = f.evaluate(DenseRows.wrap(s, n, c), DenseRows.wrap(t, n, c), labels, null, null, 1.0);
        assertEquals(separate.value(), fromPacked.value(), 1e-6);
        // an f-ordered view is copied once, not misread
        INDArray fView = sa.dup('f');
        assertEquals(separate.value(), f.evaluate(DenseRows.of(fView), DenseRows.wrap(t, n, c), labels, null, null, 1.0)
                .value(), 1e-6);
        INDArray sub = Nd4j.create(new float[2 * n * c], new long[] {n, 2 * c}, 'c')
                .get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c));
        sub.assign(sa);
        assertEquals(separate.value(), f.evaluate(DenseRows.of(sub), DenseRows.wrap(t, n, c), labels, null, null, 1.0)
                .value(), 1e-6);
    }

    @Test
    void givenANaNStudentLogit_whenFused_thenTheErrorNamesInputRowAndClass() {
        float[] s = {0, 1, Float.NaN, 2};
        float[] t = {0, 1, 2, 3};
        FusedObjective f = FusedObjective.of(FusedTerm.softTargetKl(1, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.evaluate(DenseRows.wrap(s, 1, 4), DenseRows.wrap(t, 1, 4), null, null, null, 1));
        assertEquals("student_logits must be finite, got NaN at row 0, class 2", e.getMessage());
        double[] td = {0, Double.NEGATIVE_INFINITY, 2, 3};
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> FusedObjective.of(FusedTerm.totalVariation(1, 1)).evaluate(DenseRows.wrap(new double[4], 1, 4),
                        DenseRows.wrap(td, 1, 4), null, null, null, 1));
        assertEquals("teacher_logits must be finite, got -Infinity at row 0, class 1", e2.getMessage());
    }

    static Stream<Object[]> nonFiniteInVectorLanes() {
        Stream.Builder<Object[]> b = Stream.builder();
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (int at : new int[] {0, 9, 31, 36}) {
                for (String which : new String[] {"student_logits", "teacher_logits"}) {
                    for (String storage : new String[] {"float[]", "off-heap float32", "double[]"}) {
                        b.add(new Object[] {bad, at, which, storage, false});
                        b.add(new Object[] {bad, at, which, storage, true});
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} at class {1} of {2}, {3}, standardized {4}")
    @MethodSource("nonFiniteInVectorLanes")
    void givenANonFiniteLogitInsideTheVectorLanes_whenFused_thenTheErrorNamesInputRowAndClass(float bad, int at,
                                                                                             String which,
                                                                                             String storage,
                                                                                             boolean standardized) {
        // Given 3 rows of 37 classes (lanes [0, 32) and a scalar tail) with one bad value in row 1
        int n = 3;
        int c = 37;
        float[] s = new float[n * c];
        float[] t = new float[n * c];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.sin(i);
            t[i] = (float) Math.cos(i);
        }
        ("student_logits".equals(which) ? s : t)[c + at] = bad;
        DenseRows sr;
        DenseRows tr;
        switch (storage) {
            case "float[]" -> {
                sr = DenseRows.wrap(s, n, c);
                tr = DenseRows.wrap(t, n, c);
            }
            case "off-heap float32" -> {
                sr = DenseRows.of(Nd4j.create(s, new long[] {n, c}));
                tr = DenseRows.of(Nd4j.create(t, new long[] {n, c}));
            }
            default -> {
                sr = DenseRows.wrap(toDouble(s), n, c);
                tr = DenseRows.wrap(toDouble(t), n, c);
            }
        }
        // KD, or standardized KD (whose rows are copied with the sum for their mean, not read by the load pass)
        FusedTerm kd = FusedTerm.softTargetKl(1, 2);
        FusedObjective f = FusedObjective.of(standardized ? kd.standardized() : kd);
        // When fused, Then the error names the input, the value, the row and the class
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.evaluate(sr, tr, null, null, null, 1));
        assertEquals(which + " must be finite, got " + (storage.equals("double[]") ? Double.toString(bad)
                : Float.toString(bad)) + " at row 1, class " + at, e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float[]", "off-heap float32", "double[]"})
    void givenNonFiniteLogitsInBothInputs_whenFused_thenTheStudentsIsNamedFirst(String storage) {
        // Given one row of 37 classes, the teacher bad at class 2 and the student bad at class 30
        int c = 37;
        float[] s = new float[c];
        float[] t = new float[c];
        for (int i = 0; i < c; i++) {
            s[i] = (float) Math.sin(i);
            t[i] = (float) Math.cos(i);
        }
        t[2] = Float.NaN;
        s[30] = Float.POSITIVE_INFINITY;
        DenseRows sr = switch (storage) {
            case "float[]" -> DenseRows.wrap(s, 1, c);
            case "off-heap float32" -> DenseRows.of(Nd4j.create(s, new long[] {1, c}));
            default -> DenseRows.wrap(toDouble(s), 1, c);
        };
        DenseRows tr = switch (storage) {
            case "float[]" -> DenseRows.wrap(t, 1, c);
            case "off-heap float32" -> DenseRows.of(Nd4j.create(t, new long[] {1, c}));
            default -> DenseRows.wrap(toDouble(t), 1, c);
        };
        // When fused (KD: on off-heap rows the load pass reads both rows in one loop)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FusedObjective.of(FusedTerm.softTargetKl(1, 2)).evaluate(sr, tr, null, null, null, 1));
        // Then the student's value is named, as by the separate load pass, which reads the student first
        assertEquals("student_logits must be finite, got Infinity at row 0, class 30", e.getMessage());
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    @Test
    void givenARowWithoutAHardLabel_whenCrossEntropyIsFused_thenTheErrorNamesTheRow() {
        float[] oneHot = {0, 1, 0, 0, 0, 0};
        FusedObjective f = FusedObjective.of(FusedTerm.crossEntropy(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.evaluateOneHot(DenseRows.wrap(new float[6], 2, 3), null, DenseRows.wrap(oneHot, 2, 3), null,
                        null, 1));
        assertEquals("labels must be class indices in [0, 3), got -1 at row 1 (a row without a one-hot hard label)",
                e.getMessage());
    }

    @Test
    void givenBadTermParameters_whenBuilt_thenTheErrorNamesTheParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FusedTerm.softTargetKl(1, -1));
        assertEquals("temperature must be > 0 and finite, got -1.0", e.getMessage());
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> FusedTerm.reverseKl(Double.NaN, 1));
        assertEquals("weight must be finite and >= 0, got NaN", w.getMessage());
    }

    @Test
    void givenAnObjectiveWithAnUnfusedTerm_whenCompiled_thenEmpty() {
        assertTrue(FusedObjective.compile(Objective.parse("0.5*CrossEntropy + 0.5*Nkd"), 1).isEmpty());
        assertTrue(FusedObjective.compile(Objective.parse("0.5*Nkd + 0.5*SoftTargetKl(standardize=true)"), 1)
                .isEmpty());
    }

    @ParameterizedTest(name = "float32 = {0}")
    @ValueSource(booleans = {true, false})
    void givenConstantRows_whenStandardizedKdIsFused_thenValueAndGradientEqualTheReferencePath(boolean float32) {
        // Given rows of 37 classes where row 1 of the student and row 2 of the teacher are constant (std = 0:
        // z = 0, and the gradient is (g - mean g) / eps, as in PyTorch)
        int n = 3;
        int c = 37;
        Random rnd = new Random(41);
        double[] s = ReferenceCheck.logits(rnd, n * c, float32, 2);
        double[] t = ReferenceCheck.logits(rnd, n * c, float32, 2);
        for (int j = 0; j < c; j++) {
            s[c + j] = 1.5;
            t[2 * c + j] = -0.25;
        }
        Objective objective = Objective.parse("0.5*CrossEntropy + SoftTargetKl(temperature=2.0, standardize=true)");
        int[] labels = {3, 0, 36};
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, null,
                DataType.DOUBLE, "test"), 0);
        // When fused
        DataType type = float32 ? DataType.FLOAT : DataType.DOUBLE;
        INDArray ga = Nd4j.zeros(type, n, c);
        FusedResult r = FusedObjective.compile(objective, 0).orElseThrow().evaluate(
                DenseRows.of(Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(type)),
                DenseRows.of(Nd4j.create(t, new long[] {n, c}, DataType.DOUBLE).castTo(type)), labels, null,
                DenseRows.of(ga), 1.0 / n);
        // Then
        ReferenceCheck.assertMatches(ref, r, null, ga.castTo(DataType.DOUBLE).data().asDouble(), null, n, c, float32);
    }

    @Test
    void givenStandardizedTermsAndOneClass_whenFused_thenTheErrorIsTheCatalogues() {
        // Given KD and DKD on z-scores (unbiased std needs 2 classes) and rows of one class
        for (String f : List.of("SoftTargetKl(standardize=true)", "Dkd(standardize=true)")) {
            FusedObjective fused = FusedObjective.compile(Objective.parse(f), 1).orElseThrow();
            // When fused, Then the error is the catalogue class's
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fused.evaluate(
                    DenseRows.wrap(new float[2], 2, 1), DenseRows.wrap(new float[2], 2, 1), new int[2], null, null, 1));
            assertEquals(f.substring(0, f.indexOf('(')) + ": standardize needs at least 2 classes (unbiased std), got 1",
                    e.getMessage());
        }
        // and standardize is only for KD and DKD
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FusedTerm.reverseKl(1, 1).standardized());
        assertEquals("standardize is supported for SOFT_TARGET_KL and DKD, got REVERSE_KL", e.getMessage());
    }

    @Test
    void givenEqualStudentAndTeacher_whenKdIsFused_thenValueAndGradientAreZero() {
        // KL(p || p) = 0 and T (q - p) = 0: exact, whatever the kernel
        float[] x = new float[3 * 101];
        Random rnd = new Random(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 5);
        }
        float[] g = new float[x.length];
        FusedResult r = FusedObjective.of(FusedTerm.softTargetKl(1, 4), FusedTerm.totalVariation(1, 1))
                .evaluate(DenseRows.wrap(x, 3, 101), DenseRows.wrap(x.clone(), 3, 101), null, null,
                        DenseRows.wrap(g, 3, 101), 1);
        assertEquals(0.0, r.value(), 1e-6);
        assertArrayEquals(new float[x.length], g, 1e-7f);
    }

    @Test
    void givenHugeFiniteLogits_whenFusedOffHeap_thenTheyAreNotRejected() {
        // Given off-heap student rows of 2061 classes all equal to 3e37: a float lane adds up 128 of them,
        // which overflows the finiteness sum of the load pass (the row is then scanned and found finite).
        // Only gradients are compared: a value lse - s[label] at 3e37 keeps no digits in double.
        int c = 2061;
        float[] huge = new float[2 * c];
        Arrays.fill(huge, 3e37f);
        INDArray grad = Nd4j.zeros(DataType.FLOAT, 2, c);
        // When cross-entropy is fused on them (labels 5 and 2060)
        FusedObjective.of(FusedTerm.crossEntropy(1, 0)).evaluate(DenseRows.of(Nd4j.create(huge, new long[] {2, c})),
                null, new int[] {5, 2060}, null, DenseRows.of(grad), 1);
        // Then the student is uniform: gradient 1/2061 - [j = label]
        float[] g = grad.data().asFloat();
        assertEquals(1.0 / c - 1, g[5], 1e-6);
        assertEquals(1.0 / c, g[6], 1e-6);
        assertEquals(1.0 / c - 1, g[c + 2060], 1e-6);

        // And a top-k KL (the student's own load pass, with its exponentials) accepts them too. Its gradient
        // is not compared: log q = s / T - lse subtracts two numbers near 1.5e37, which keeps no digits in double.
        float half = (float) Math.log(0.5);
        float[] teacher = {0, 1, half, 2 * half, 0, 1, half, 2 * half};
        FusedObjective topK = FusedObjective.compile(Objective.parse("SparseTopKKl(temperature=2.0)"), 1.0)
                .orElseThrow();
        INDArray onHuge = Nd4j.zeros(DataType.FLOAT, 2, c);
        topK.evaluate(DenseRows.of(Nd4j.create(huge, new long[] {2, c})), DenseRows.wrap(teacher, 2, 4), null, null,
                DenseRows.of(onHuge), 1.0);
        for (float v : onHuge.data().asFloat()) {
            assertTrue(Float.isFinite(v), "a top-k gradient on finite logits is finite");
        }
    }

    private static double[] logits(Random rnd, int size, boolean float32) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            double v = rnd.nextGaussian() * 3;
            x[i] = float32 ? (float) v : v;
        }
        return x;
    }

    private static double[] scatter(double[] rowsGrad, boolean[] valid, int n, int c) {
        double[] full = new double[n * c];
        for (int i = 0, j = 0; i < n; i++) {
            if (valid == null || valid[i]) {
                System.arraycopy(rowsGrad, j++ * c, full, i * c, c);
            }
        }
        return full;
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
