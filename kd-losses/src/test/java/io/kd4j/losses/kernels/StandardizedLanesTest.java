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

    @ParameterizedTest(name = "{0}, {1} classes")
    @CsvSource({
        "'Dkd(temperature=1.0, warmupEpochs=1.0, standardize=true)', 32003",
        "'0.5*CrossEntropy + Dkd(temperature=1.0, nonTargetWeight=8.0, warmupEpochs=1.0, standardize=true)', 32000",
        "'Dkd(temperature=2.0, warmupEpochs=1.0, standardize=true) + 0.5*SoftTargetKl(temperature=2.0)', 32003"})
    void givenTargetsFarAboveTheOtherClasses_whenStandardizedDkdIsFused_thenEveryRowMatchesTheReference(
            String formula, int classes) {
        // Given rows whose target logit is 60 (student) and 80 (teacher) above the other classes' noise of
        // standard deviation 0.5: at 32,000 classes the target's z-score is about 100 and the others' about 0,
        // so exp((z - z_target) / T) is below float's range (e^-100 = 3.7e-44) and DKD's non-target softmax
        // needs its own shift, the largest non-target z-score; targets at the first class, in the middle and
        // at the last class (in the scalar tail at 32,003 classes)
        int n = 4;
        int[] labels = {0, 17_001, classes - 1, 5};
        Random rnd = new Random(classes);
        double[] s = new double[n * classes];
        double[] t = new double[n * classes];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < classes; j++) {
                s[i * classes + j] = (float) (0.5 * rnd.nextGaussian() + (j == labels[i] ? 60 : 0));
                t[i * classes + j] = (float) (0.5 * rnd.nextGaussian() + (j == labels[i] ? 80 : 0));
            }
        }
        Objective objective = Objective.parse(formula);

        // When fused on float32 arrays, Then the value, the terms and every row's gradient equal the double
        // reference
        ReferenceCheck.assertFloat32MatchesReference(objective, s, t, labels, n, classes);
    }
}
