package io.kd4j.losses.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.catalogue.Objective;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Bad packed labels, masks and outputs reaching the DL4J adapter fail with a message naming the rule and value. */
class DistillationLossFunctionValidationTest {
    private static final DistillationLossFunction DENSE = DistillationLossFunction.of(
            Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)"), TargetLayout.dense(3));

    /** Two rows, 3 classes: [one-hot | teacher logits | epoch]. */
    private static double[][] packed() {
        return new double[][] {{1, 0, 0, 2.0, 0.5, -1.0, 1}, {0, 0, 1, -0.5, 0.1, 3.0, 1}};
    }

    private static final INDArray PRE_OUTPUT = Nd4j.create(new double[][] {{0.3, -0.2, 0.1}, {1.0, 0.0, -1.0}});

    record BadInput(String what, UnaryOperator<double[][]> corrupt, INDArray mask, INDArray preOutput, String message) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<BadInput> badInputs() {
        return List.of(
                new BadInput("two ones in a one-hot row", p -> {
                    p[0][1] = 1;
                    return p;
                }, null, PRE_OUTPUT, "hard labels must be one-hot (at most one 1 per row), got 2 ones at row 0"),
                new BadInput("NaN in the one-hot block", p -> {
                    p[1][0] = Double.NaN;
                    return p;
                }, null, PRE_OUTPUT, "hard labels must be one-hot (0 or 1), got NaN at row 1, class 0"),
                new BadInput("soft value in the one-hot block", p -> {
                    p[0][0] = 0.7;
                    return p;
                }, null, PRE_OUTPUT, "hard labels must be one-hot (0 or 1), got 0.7 at row 0, class 0"),
                new BadInput("NaN epoch", p -> {
                    p[1][6] = Double.NaN;
                    return p;
                }, null, PRE_OUTPUT, "packed epoch column must be finite and >= 0, got NaN at row 1"),
                new BadInput("negative epoch", p -> {
                    p[0][6] = -2;
                    return p;
                }, null, PRE_OUTPUT, "packed epoch column must be finite and >= 0, got -2.0 at row 0"),
                new BadInput("NaN teacher logit", p -> {
                    p[0][4] = Double.NaN;
                    return p;
                }, null, PRE_OUTPUT, "teacher_logits must be finite, got NaN at row 0, class 1"),
                new BadInput("infinite teacher logit", p -> {
                    p[1][5] = Double.NEGATIVE_INFINITY;
                    return p;
                }, null, PRE_OUTPUT, "teacher_logits must be finite, got -Infinity at row 1, class 2"),
                new BadInput("mask with the wrong number of rows", p -> p, Nd4j.ones(DataType.DOUBLE, 3, 1),
                        PRE_OUTPUT, "label mask must be [2, 1] or [2, width], got [3, 1]"),
                new BadInput("negative mask (a mask value is a per-example weight)", p -> p,
                        Nd4j.create(new double[][] {{1}, {-0.5}}), PRE_OUTPUT,
                        "labels mask values (0/1, or per-example sample weights) must be finite and >= 0, got -0.5 "
                        + "at example 1"),
                new BadInput("student output of another width", p -> p, null, Nd4j.zeros(DataType.DOUBLE, 2, 4),
                        "student output has 4 units, but the objective was configured for classes=3"),
                new BadInput("student output with NaN", p -> p, null,
                        Nd4j.create(new double[][] {{0.3, Double.NaN, 0.1}, {1.0, 0.0, -1.0}}),
                        "student_logits must be finite, got NaN at row 0, class 1"),
                new BadInput("unpacked labels", p -> new double[][] {{1, 0, 0}, {0, 0, 1}}, null, PRE_OUTPUT,
                        "packed labels must be [2, 7] (one-hot 3 | teacher 3 | epoch 1), got [2, 3]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void givenBadPackedInput_whenScored_thenIllegalArgumentNamesRuleAndValue(BadInput bad) {
        INDArray labels = Nd4j.create(bad.corrupt().apply(packed()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DENSE.computeScoreArray(labels, bad.preOutput(), new ActivationIdentity(), bad.mask()));
        assertTrue(e.getMessage().contains(bad.message()), e.getMessage());
    }

    @Test
    void givenNonIntegralTopKIndex_whenScored_thenIllegalArgument() {
        DistillationLossFunction sparse = DistillationLossFunction.of(Objective.parse("SparseTopKKl"),
                new TargetLayout(3, 2));
        // [one-hot 3 | indices 2 | log-probs 2 | epoch]
        INDArray labels = Nd4j.create(new double[][] {{1, 0, 0, 0, 1.5, -0.5, -1.5, 1}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sparse.computeScoreArray(
                labels, Nd4j.create(new double[][] {{0.1, 0.2, 0.3}}), new ActivationIdentity(), null));
        assertEquals("packed teacher top-k indices must be integers in [0, 3), got 1.5 at row 0", e.getMessage());
    }

    @Test
    void givenWellFormedPackedInput_whenScored_thenFiniteScores() {
        INDArray scores = DENSE.computeScoreArray(Nd4j.create(packed()), PRE_OUTPUT, new ActivationIdentity(), null);
        assertEquals(2, scores.length());
        assertTrue(Double.isFinite(scores.sumNumber().doubleValue()));
    }
}
