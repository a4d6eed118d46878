package io.kd4j.losses.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.catalogue.Objective;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J asks for the gradient and then the score of the same step: the score is read from the gradient
 * call's fused result when, and only when, the inputs are equal.
 */
class StepMemoTest {
    private static final String OBJECTIVE = "0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)";
    private static final ActivationIdentity ID = new ActivationIdentity();

    private static DistillationLossFunction fresh() {
        return DistillationLossFunction.of(Objective.parse(OBJECTIVE), TargetLayout.dense(3));
    }

    // packed [one-hot (3) | teacher logits (3) | epoch]
    private static INDArray labels() {
        return Nd4j.create(new float[][] {
                {1, 0, 0, 2.0f, 0.5f, -1.0f, 1},
                {0, 1, 0, 0.0f, 1.5f, 0.2f, 1},
                {0, 0, 1, -0.3f, 0.1f, 0.9f, 1}});
    }

    private static INDArray logits() {
        return Nd4j.create(new float[][] {{0.3f, -0.2f, 0.1f}, {1.0f, 0.4f, -0.6f}, {-0.5f, 0.0f, 0.7f}});
    }

    private static INDArray mask(float... m) {
        return Nd4j.create(m, new long[] {m.length, 1}, DataType.FLOAT);
    }

    @Test
    void givenGradientCall_whenScoreOfEqualNewArrays_thenKernelNotRunAgainAndSameScore() {
        // Given
        DistillationLossFunction fn = fresh();
        fn.computeGradient(labels(), logits(), ID, mask(1, 0, 1));
        // When: new arrays with the same values, as DL4J recomputes the pre-outputs for the score
        double score = fn.computeScore(labels(), logits(), ID, mask(1, 0, 1), false);
        double[] array = fn.computeScoreArray(labels(), logits(), ID, mask(1, 0, 1)).ravel().toDoubleVector();
        // Then
        assertEquals(1, fn.fusedEvaluations());
        assertTrue(fn.lastEvaluationFused());
        DistillationLossFunction other = fresh();
        assertEquals(other.computeScore(labels(), logits(), ID, mask(1, 0, 1), false), score, 0.0);
        double[] expected = other.computeScoreArray(labels(), logits(), ID, mask(1, 0, 1)).ravel().toDoubleVector();
        assertEquals(expected.length, array.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], array[i], 0.0, "example " + i);
        }
    }

    /** What changes between the gradient and the score call; whether the score changes with it (row 1 is masked). */
    static Stream<Arguments> changes() {
        UnaryOperator<INDArray> same = a -> a;
        return Stream.of(
                Arguments.of("a student logit", (UnaryOperator<INDArray>) a -> a.putScalar(2, 2, -0.61f), same, null,
                        true),
                Arguments.of("a teacher logit", same, (UnaryOperator<INDArray>) a -> a.putScalar(2, 4, 0.11f), null,
                        true),
                Arguments.of("the hard label", same, (UnaryOperator<INDArray>) a -> a.putScalar(0, 0, 0)
                        .putScalar(0, 1, 1), null, true),
                Arguments.of("the epoch column", same, (UnaryOperator<INDArray>) a -> {
                    for (int i = 0; i < 3; i++) {
                        a.putScalar(i, 6, 2);
                    }
                    return a;
                }, null, false),
                Arguments.of("the mask", same, same, mask(1, 1, 0), true),
                // the same values in float64: another data type, evaluated again (to the same score)
                Arguments.of("the student in float64", (UnaryOperator<INDArray>) a -> a.castTo(DataType.DOUBLE), same,
                        null, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("changes")
    void givenGradientCall_whenScoreOfChangedInputs_thenKernelRunsAndScoreIsTheNewOne(
            String what, UnaryOperator<INDArray> student, UnaryOperator<INDArray> packed, INDArray newMask,
            boolean changesScore) {
        // Given
        DistillationLossFunction fn = fresh();
        INDArray m = mask(1, 0, 1);
        double before = fn.computeScore(labels(), logits(), ID, m, false);
        fn.computeGradient(labels(), logits(), ID, m);
        // When
        INDArray s = student.apply(logits());
        INDArray l = packed.apply(labels());
        INDArray mk = newMask == null ? m : newMask;
        double score = fn.computeScore(l, s, ID, mk, false);
        // Then
        assertEquals(3, fn.fusedEvaluations(), what);
        assertEquals(fresh().computeScore(l, s, ID, mk, false), score, 0.0, what);
        if (changesScore) {
            assertNotEquals(before, score, what);
        }
    }

    @Test
    void givenGradientCall_whenSameLabelsArrayChangedInPlace_thenScoreIsTheNewOne() {
        // Given
        DistillationLossFunction fn = fresh();
        INDArray l = labels();
        INDArray s = logits();
        fn.computeGradient(l, s, ID, null);
        double before = fresh().computeScore(l, s, ID, null, false);
        // When: the very same arrays, one teacher logit changed in place
        l.putScalar(1, 3, 3.0f);
        double score = fn.computeScore(l, s, ID, null, false);
        // Then
        assertEquals(2, fn.fusedEvaluations());
        assertEquals(fresh().computeScore(l, s, ID, null, false), score, 0.0);
        assertNotEquals(before, score);
    }

    @Test
    void givenScoreCallFirst_whenScoreAgain_thenKernelRunsEachTime() {
        // Given: only gradient calls are remembered
        DistillationLossFunction fn = fresh();
        fn.computeScore(labels(), logits(), ID, null, false);
        // When
        fn.computeScore(labels(), logits(), ID, null, false);
        // Then
        assertEquals(2, fn.fusedEvaluations());
    }

    @Test
    void givenBatchOverTheLimit_whenGradientThenScore_thenNotRemembered() {
        // Given: 2 rows of MAX_VALUES / 2 + 1 classes, one value over the limit
        int classes = (int) (StepMemo.MAX_VALUES / 2 + 1);
        DistillationLossFunction fn = DistillationLossFunction.of(
                Objective.parse("SoftTargetKl(temperature=2.0)"), TargetLayout.dense(classes));
        INDArray s = Nd4j.rand(DataType.FLOAT, 2, classes);
        INDArray packed = Nd4j.hstack(Nd4j.zeros(DataType.FLOAT, 2, classes), Nd4j.rand(DataType.FLOAT, 2, classes),
                Nd4j.ones(DataType.FLOAT, 2, 1));
        // When
        fn.computeGradient(packed, s, ID, null);
        fn.computeScore(packed, s, ID, null, false);
        // Then
        assertEquals(2, fn.fusedEvaluations());
    }
}
