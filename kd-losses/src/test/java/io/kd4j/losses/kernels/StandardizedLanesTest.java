package io.kd4j.losses.kernels;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
        "'0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=3.0, standardize=true)', 2061, 30000, 3",
        "'Dkd(temperature=2.0, nonTargetWeight=8.0, warmupEpochs=1.0, standardize=true)', 2061, -30000, 1",
        "'0.3*CrossEntropy + 0.7*Dkd(temperature=4.0, warmupEpochs=1.0, standardize=true)', 1030, 5000, 2"})
    void givenRowsFarFromZero_whenStandardizedTermsAreFused_thenEveryRowMatchesTheReference(String formula,
            int classes, double offset, double spread) {
        // Given rows whose means lie far from 0 next to their spread, each row at its own offset (row i at
        // offset · (1 + i / 7), the teacher's at minus half that)
        Random rnd = new Random(formula.hashCode() + classes);
        double[] s = new double[ROWS * classes];
        double[] t = new double[ROWS * classes];
        for (int i = 0; i < ROWS; i++) {
            double at = offset * (1 + i / 7.0);
            for (int j = 0; j < classes; j++) {
                s[i * classes + j] = (float) (at + spread * rnd.nextGaussian());
                t[i * classes + j] = (float) (-at / 2 + spread * rnd.nextGaussian());
            }
        }
        int[] labels = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            labels[i] = (i * 131) % classes;
        }
        Objective objective = Objective.parse(formula);
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, ROWS, classes, null,
                DataType.DOUBLE, "test"), 2);

        // When fused on float32 arrays
        INDArray ga = Nd4j.valueArrayOf(new long[] {ROWS, classes}, Float.NaN, DataType.FLOAT);
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow().evaluate(
                DenseRows.of(Nd4j.create(s, new long[] {ROWS, classes}, DataType.DOUBLE).castTo(DataType.FLOAT)),
                DenseRows.of(Nd4j.create(t, new long[] {ROWS, classes}, DataType.DOUBLE).castTo(DataType.FLOAT)),
                labels, null, DenseRows.of(ga), 1.0 / ROWS);

        // Then the value, the terms and every row's gradient equal the double reference
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, null, ROWS, classes, true);
    }
}
