package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The vector kernel's load pass leaves the rows out of its row buffers when no term of the batch reads them
 * there ({@link LoadedRows}): KD, TVD, the JSD (at β &lt; 1 it reads the student's logits from the batch's
 * buffer) and reverse KL (its gradient pass, when no next load pass takes its formula, copies the rows
 * first) as the only pair-fused term, and KD or DKD beside a cross-entropy that takes their exponentials as
 * powers (it reads its label's logit from the batch's buffer, with label smoothing the load pass's sum of
 * the student's logits, and copies the rows first when it cannot take the powers). These cases mix such a
 * term with terms that do read the rows (a second term of the pair kinds takes its own exponentials from them), put rows that fall back to their
 * maxima among the others, and check every row against the double reference; and they check that a
 * non-finite logit in a row left out is still found and named. Each batch first runs an objective that
 * copies its rows on finite logits, so that what a row buffer holds from earlier is finite and never at
 * the bad class: a scan of that instead of the row would find nothing, or name the wrong class. In the
 * default (scalar) execution the same cases check the scalar kernel.
 */
class LoadedRowsTest {
    private static final int ROWS = 200;
    private static final int CLASSES = 2061;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SoftTargetKl(temperature=4.0)",
        "TotalVariation(temperature=2.0)",
        "ReverseKl(temperature=2.0)",
        "ReverseKl(temperature=1.0) + 0.5*TotalVariation(temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=0.0, temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=1.0, temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=0.3, temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=0.7, temperature=1.0) + 0.1*CrossEntropy",
        "0.5*SoftTargetKl(temperature=4.0) + 0.5*TotalVariation(temperature=2.0)",
        "TotalVariation(temperature=1.0) + SoftTargetKl(temperature=3.0)",
        "SoftTargetKl(temperature=2.0) + GeneralizedJsd(teacherMixWeight=0.5, temperature=1.0)",
        "SoftTargetKl(temperature=2.0) + 0.5*SoftTargetKl(temperature=2.0, standardize=true)",
        "0.2*CrossEntropy + 0.8*TotalVariation(temperature=2.0)",
        "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)",
        "0.9*SoftTargetKl(temperature=2.0) + 0.1*CrossEntropy",
        "0.1*CrossEntropy(labelSmoothing=0.1) + 0.9*SoftTargetKl(temperature=4.0)",
        "0.8*SoftTargetKl(temperature=1.0) + 0.2*CrossEntropy(labelSmoothing=0.3)",
        "0.1*CrossEntropy(labelSmoothing=0.1) + 0.9*SoftTargetKl(temperature=2.5)",
        "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=2.5)",
        "0.8*SoftTargetKl(temperature=2.0) + 0.1*CrossEntropy + 0.1*CrossEntropy",
        "Dkd(temperature=4.0, warmupEpochs=1.0)",
        "Dkd(temperature=1.0, warmupEpochs=1.0)",
        "CrossEntropy + Dkd(temperature=4.0, warmupEpochs=1.0)",
        "0.3*CrossEntropy(labelSmoothing=0.1) + 0.7*Dkd(targetWeight=2.0, nonTargetWeight=0.5, temperature=2.0)"})
    void givenAPairTermWithOtherTerms_whenFusedOnOffHeapRows_thenEveryRowMatchesTheReference(String formula) {
        // Given 200 rows, every fifth with its teacher maximum far above its first values (its exponentials
        // are taken again from the row buffers), after a batch that filled the row buffers with other rows
        Random rnd = new Random(formula.hashCode());
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        for (int i = 4; i < ROWS; i += 5) {
            t[i * CLASSES + CLASSES - 1] = 500;
        }
        int[] labels = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            labels[i] = ReferenceCheck.argmax(t, i, CLASSES);
        }
        fillRowBuffers(rnd);

        // When fused on off-heap float32 arrays, Then the value, the terms and every row's gradient equal
        // the reference
        assertFusedMatchesReference(formula, s, t, DenseRows.of(floats(t)), labels);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)",
        "0.9*SoftTargetKl(temperature=3.0) + 0.1*CrossEntropy",
        "0.1*CrossEntropy(labelSmoothing=0.2) + 0.9*SoftTargetKl(temperature=4.0)",
        "0.4*CrossEntropy(labelSmoothing=0.1) + 0.6*Dkd(temperature=4.0, warmupEpochs=1.0)"})
    void givenStudentRowsFarAboveTheirFirstValues_whenCrossEntropyBesideKdIsFused_thenEveryRowMatchesTheReference(
            String formula) {
        // Given 200 rows, every seventh with one student logit 150 above its others: KD's shifted
        // exponentials stand ((150 - guess) / T is below their limit of 64), but their powers would not
        // (150 - guess > 80), so the cross-entropy takes its own exponentials from the row buffers, which the
        // load pass left out (it takes powers elsewhere); the row buffers hold other rows before
        Random rnd = new Random(formula.hashCode() + 3);
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        for (int i = 0; i < ROWS; i += 7) {
            s[i * CLASSES + 1000 + i] = 150;
        }
        int[] labels = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            labels[i] = (i * 37) % CLASSES;
        }
        fillRowBuffers(rnd);

        // When fused on off-heap float32 arrays, Then the value, the terms and every row's gradient equal
        // the reference
        assertFusedMatchesReference(formula, s, t, DenseRows.of(floats(t)), labels);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "ReverseKl(temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=0.3, temperature=2.0)",
        "SoftTargetKl(temperature=4.0)"})
    void givenTheTeacherInTheRightHalfOfAWiderMatrix_whenFused_thenEveryRowMatchesTheReference(String formula) {
        // Given the teacher's logits as columns [C, 2C) of a [rows, 2C] matrix (its rows start C floats
        // into each row of 2C: other offsets and strides than the student's), the student's in a matrix
        Random rnd = new Random(formula.hashCode() + 1);
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        INDArray packed = Nd4j.zeros(DataType.FLOAT, ROWS, 2 * CLASSES);
        packed.get(NDArrayIndex.all(), NDArrayIndex.interval(CLASSES, 2 * CLASSES)).assign(floats(t));
        fillRowBuffers(rnd);

        // When fused, Then the value, the terms and every row's gradient equal the reference
        assertFusedMatchesReference(formula, s, t, DenseRows.columns(packed, CLASSES, CLASSES), null);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "ReverseKl(temperature=2.0)",
        "GeneralizedJsd(teacherMixWeight=1.0, temperature=3.0)",
        "SoftTargetKl(temperature=4.0)"})
    void givenAGradientOnTheHeap_whenATermThatLeavesTheRowsOutIsFused_thenItsGradientPassReadsTheRows(String formula) {
        // Given off-heap rows and a gradient in a float[] (no next load pass writes it: reverse KL's gradient
        // takes its pass over the row buffers, which the load pass left unfilled), after a batch that filled
        // the row buffers with other rows
        Random rnd = new Random(formula.hashCode() + 2);
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        Objective objective = Objective.parse(formula);
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, null, 0, null, null, ROWS, CLASSES, null,
                DataType.DOUBLE, "test"), 2);
        fillRowBuffers(rnd);
        float[] grad = new float[ROWS * CLASSES];
        Arrays.fill(grad, Float.NaN);

        // When fused
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow().evaluate(DenseRows.of(floats(s)),
                DenseRows.of(floats(t)), null, null, DenseRows.wrap(grad, ROWS, CLASSES), 1.0 / ROWS);

        // Then the value, the terms and every row's gradient equal the reference on these rows
        ReferenceCheck.assertMatches(ref, r, grad, null, null, ROWS, CLASSES, true);
    }

    @ParameterizedTest(name = "{0} at row {1}, class {2} of {3}")
    @CsvSource({
        "SoftTargetKl(temperature=2.0), 150, 1234, student_logits, NaN",
        "SoftTargetKl(temperature=2.0), 7, 1717, teacher_logits, Infinity",
        "TotalVariation(temperature=1.0), 199, 999, student_logits, -Infinity",
        "'GeneralizedJsd(teacherMixWeight=0.0, temperature=2.0)', 0, 2047, teacher_logits, NaN",
        "'GeneralizedJsd(teacherMixWeight=0.4, temperature=2.0)', 88, 5, student_logits, NaN",
        "ReverseKl(temperature=2.0), 120, 2060, teacher_logits, NaN",
        // reverse KL alone: the load loop that stores q (t - s) and checks finiteness on its sum
        "ReverseKl(temperature=2.0), 121, 1000, student_logits, -Infinity",
        "ReverseKl(temperature=1.0), 33, 517, teacher_logits, Infinity",
        "ReverseKl(temperature=1.0), 64, 20, teacher_logits, -Infinity",
        "'GeneralizedJsd(teacherMixWeight=1.0, temperature=2.0)', 61, 40, student_logits, NaN"})
    void givenANonFiniteLogitInARowLeftOut_whenFused_thenTheErrorNamesItsRowAndClass(String formula, int row, int at,
                                                                                    String which, float bad) {
        // Given finite rows but one, after a batch that filled the row buffers with finite rows
        Random rnd = new Random(row + at);
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        ("student_logits".equals(which) ? s : t)[row * CLASSES + at] = bad;
        FusedObjective fused = FusedObjective.compile(Objective.parse(formula), 2).orElseThrow();
        fillRowBuffers(rnd);
        INDArray ga = Nd4j.zeros(DataType.FLOAT, ROWS, CLASSES);

        // When fused
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fused.evaluate(DenseRows.of(floats(s)), DenseRows.of(floats(t)), null, null, DenseRows.of(ga),
                        1.0 / ROWS));

        // Then the error names the input, the value, the row and the class (a parallel stream may wrap a
        // worker thread's error in one of the same type)
        assertTrue(e.getMessage().contains(which + " must be finite, got " + bad + " at row " + row + ", class "
                + at), e.getMessage());
    }

    static Stream<Arguments> objectives() {
        FusedTerm kd = FusedTerm.softTargetKl(1, 2);
        return Stream.of(
                Arguments.of("KD", new FusedTerm[] {kd}, false),
                Arguments.of("TVD", new FusedTerm[] {FusedTerm.totalVariation(1, 2)}, false),
                Arguments.of("JSD β = 0", new FusedTerm[] {FusedTerm.generalizedJsd(1, 2, 0)}, false),
                Arguments.of("JSD β = 0.5", new FusedTerm[] {FusedTerm.generalizedJsd(1, 2, 0.5)}, false),
                Arguments.of("JSD β = 1", new FusedTerm[] {FusedTerm.generalizedJsd(1, 2, 1)}, false),
                Arguments.of("reverse KL", new FusedTerm[] {FusedTerm.reverseKl(1, 2)}, false),
                Arguments.of("reverse KL + TVD", new FusedTerm[] {FusedTerm.reverseKl(1, 2),
                    FusedTerm.totalVariation(1, 1)}, true),
                Arguments.of("DKD", new FusedTerm[] {FusedTerm.dkd(1, 4, 1, 8, 1)}, false),
                Arguments.of("CE + KD", new FusedTerm[] {FusedTerm.crossEntropy(1, 0), kd}, false),
                Arguments.of("KD + CE", new FusedTerm[] {kd, FusedTerm.crossEntropy(1, 0)}, false),
                Arguments.of("CE with label smoothing + KD", new FusedTerm[] {FusedTerm.crossEntropy(1, 0.1), kd},
                    false),
                Arguments.of("KD + CE with label smoothing", new FusedTerm[] {kd, FusedTerm.crossEntropy(1, 0.2)},
                    false),
                Arguments.of("CE with label smoothing + KD at T = 2.5", new FusedTerm[] {
                    FusedTerm.crossEntropy(1, 0.1), FusedTerm.softTargetKl(1, 2.5)}, true),
                Arguments.of("CE + KD at T = 2.5", new FusedTerm[] {FusedTerm.crossEntropy(1, 0),
                    FusedTerm.softTargetKl(1, 2.5)}, true),
                Arguments.of("CE + KD + TVD", new FusedTerm[] {FusedTerm.crossEntropy(1, 0), kd,
                    FusedTerm.totalVariation(1, 1)}, true),
                Arguments.of("CE + DKD", new FusedTerm[] {FusedTerm.crossEntropy(1, 0), FusedTerm.dkd(1, 4, 1, 8, 1)},
                    false),
                Arguments.of("CE with label smoothing + DKD", new FusedTerm[] {FusedTerm.crossEntropy(1, 0.1),
                    FusedTerm.dkd(1, 4, 1, 8, 1)}, false),
                Arguments.of("KD + TVD", new FusedTerm[] {kd, FusedTerm.totalVariation(1, 1)}, true),
                Arguments.of("standardized KD + KD", new FusedTerm[] {kd.standardized(), kd}, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("objectives")
    void givenTheTermsOfABatch_whenAskedWhetherTheyReadTheRows_thenOnlyRowReadersDo(String name, FusedTerm[] terms,
                                                                                  boolean reads) {
        // Given a batch of the terms on off-heap rows read in place (the rule is the vector kernel's)
        assumeTrue(Kernels.offHeap(), "no vector kernels reading off-heap rows in place");
        DenseRows rows = DenseRows.of(Nd4j.zeros(DataType.FLOAT, 1, 40));
        Batch b = new Batch(rows, rows, null, 1.0, terms, new int[terms.length], new double[terms.length][], 0);
        // When asked with the load pass's pair term, Then only a batch with a term that reads a row says so
        assertEquals(reads, LoadedRows.readRows(b, VectorPairLoad.pairTerm(b)), name);
    }

    /**
     * Fuses {@code formula} on the student {@code s} (off-heap float32) and the teacher rows into a gradient
     * array full of NaN, and checks value, terms and gradient against the double reference on {@code s, t}.
     */
    private static void assertFusedMatchesReference(String formula, double[] s, double[] t, DenseRows teacher,
                                                    int[] labels) {
        Objective objective = Objective.parse(formula);
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, ROWS, CLASSES, null,
                DataType.DOUBLE, "test"), 2);
        INDArray ga = Nd4j.valueArrayOf(new long[] {ROWS, CLASSES}, Float.NaN, DataType.FLOAT);
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow()
                .evaluate(DenseRows.of(floats(s)), teacher, labels, null, DenseRows.of(ga), 1.0 / ROWS);
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, null, ROWS, CLASSES, true);
    }

    /** Runs two KD terms (the second reads both row buffers) on finite rows of the same shape. */
    private static void fillRowBuffers(Random rnd) {
        double[] s = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * CLASSES, true, 3);
        FusedObjective.compile(Objective.parse("SoftTargetKl(temperature=2.0) + SoftTargetKl(temperature=3.0)"), 2)
                .orElseThrow()
                .evaluate(DenseRows.of(floats(s)), DenseRows.of(floats(t)), null, null,
                        DenseRows.of(Nd4j.zeros(DataType.FLOAT, ROWS, CLASSES)), 1.0 / ROWS);
    }

    private static INDArray floats(double[] x) {
        return Nd4j.create(x, new long[] {ROWS, CLASSES}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }
}
