package io.kd4j.losses.kernels;

import io.kd4j.losses.catalogue.Objective;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The float32 vector kernel standardizes rows in float lanes ({@link VectorStandardized}), with the mean as
 * two floats so that {@code x - mean} keeps the precision a double mean gives. These cases put the rows
 * far from 0 next to their spread (logits of mean ±1000 to ±30000 and spread 0.5 to 3): with the mean rounded
 * to one float, {@code x - mean} would be off by up to half a float ulp of the mean (1e-3 at 30000), in
 * every class alike, and the gradient's second part, {@code Σ g (x - mean)}, with it. Each row has its own
 * offset, and the result is checked against the double reference. In the default (scalar) execution the
 * same cases check the scalar kernel.
 */
class StandardizedLanesTest {
    private static final int ROWS = 12;

    @ParameterizedTest(name = "{0}, {1} classes, offset {2}, spread {3}")
    @CsvSource({
        "'SoftTargetKl(temperature=2.0, standardize=true)', 2061, 1000, 2",
        "'SoftTargetKl(temperature=4.0, standardize=true)', 37, -3000, 0.5",
        "'SoftTargetKl(temperature=4.0, standardize=true)', 10, 200, 2",
        "'SoftTargetKl(temperature=2.0, standardize=true) + CrossEntropy', 16, -500, 1",
        "'0.5*CrossEntropy + SoftTargetKl(temperature=1.0, standardize=true)', 17, 50, 3",
        "'0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=3.0, standardize=true)', 2061, 30000, 3",
        "'Dkd(temperature=2.0, nonTargetWeight=8.0, warmupEpochs=1.0, standardize=true)', 2061, -30000, 1",
        "'0.3*CrossEntropy + 0.7*Dkd(temperature=4.0, warmupEpochs=1.0, standardize=true)', 1030, 5000, 2"})
    void givenRowsFarFromZero_whenStandardizedTermsAreFused_thenEveryRowMatchesTheReference(String formula,
            int classes, double offset, double spread) {
        // Given rows whose means lie far from 0 next to their spread, each row at its own offset (row i at
        // offset · (1 + i / 7), the teacher's at minus half that)
        double[][] st = ReferenceCheck.offsetRows(new Random(formula.hashCode() + classes), ROWS, classes, offset,
                spread, false);
        double[] s = st[0];
        double[] t = st[1];
        int[] labels = ReferenceCheck.spreadLabels(ROWS, classes);
        Objective objective = Objective.parse(formula);

        // When fused on float32 arrays, Then the value, the terms and every row's gradient equal the double
        // reference
        ReferenceCheck.assertFloat32MatchesReference(objective, s, t, labels, ROWS, classes);
    }
}
