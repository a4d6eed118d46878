package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LTKD's rebalancing pass takes the teacher's group masses of the valid rows two at a time
 * ({@link RowKernel#groupMasses(Batch, int, int, FusedTerm, double[])}): the float32 vector kernel reads
 * both rows of an off-heap teacher in one loop ({@link VectorSingleLoad#loadTeachers}), a chunk's last valid
 * row alone. These batches give the two places of a pair rows of every kind: rows whose maximum is far
 * above their guessed shift, in the vector loop or in its scalar tail (the row's masses are taken again
 * from its copy), rows with a group whose
 * sum is too small for the shared shift (each group takes its own maximum), and masked rows between them,
 * which shift the pairs. Every row's masses differ (a head bias per row), so masses given to the wrong row
 * move the batch means and the result. In the default (scalar) execution the same cases check the scalar
 * kernel, which takes the rows one after the other.
 */
class RebalancingPassTest {
    private static final int ROWS = 200;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int c : new int[] {2061, 37}) {
            for (String groups : new String[] {"ranges", "mixed"}) {
                for (String mask : new String[] {"none", "every third", "odd rows"}) {
                    for (String storage : new String[] {"off-heap", "float[]"}) {
                        b.add(Arguments.of(c, groups, mask, storage));
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} classes, groups {1}, masked {2}, {3}")
    @MethodSource("cases")
    void givenRowsOfEveryKindInBothPlacesOfAPair_whenLtkdIsFused_thenValueAndGradientEqualTheReferencePath(
            int c, String groupKind, String maskKind, String storage) {
        // Given teacher rows with a head bias of their own; every fifth row with its maximum 500 above the
        // rest in the scalar tail, every eleventh 300 above it at class 20 (after the guess window, inside
        // the vector loop), every seventh with its tail 200 T below the rest
        Random rnd = new Random(c * 31L + groupKind.hashCode() + maskKind.hashCode());
        double[] s = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        String groups = groupKind.equals("ranges") ? FusedDecoupledTest.ranges(c) : FusedDecoupledTest.groups(c, true);
        String[] group = groups.split(";");
        double tau = 2.0;
        for (int i = 0; i < ROWS; i++) {
            for (int j = 0; j < c; j++) {
                if (group[j].equals("head")) {
                    t[i * c + j] = (float) (t[i * c + j] + (i % 9) * 0.5);
                }
                if (i % 7 == 3 && group[j].equals("tail")) {
                    t[i * c + j] = (float) (t[i * c + j] - 200 * tau);
                }
            }
            if (i % 5 == 4) {
                t[i * c + c - 2] = 500;
            }
            if (i % 11 == 6) {
                t[i * c + 20] = 300;
            }
        }
        boolean[] valid = mask(maskKind);
        int count = ReferenceCheck.count(valid, ROWS);
        Objective objective = Objective.parse("Ltkd(temperature=" + tau + ", classGroups=" + groups + ")");
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, null, 0, null, null, ROWS, c, valid,
                DataType.DOUBLE, "test"), 2);

        // When fused on float32 rows
        INDArray ga = Nd4j.zeros(DataType.FLOAT, ROWS, c);
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow()
                .evaluate(rows(s, c, storage), rows(t, c, storage), null, valid, DenseRows.of(ga), 1.0 / count);

        // Then value, gradient and terms equal the reference within float tolerance
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, valid, ROWS, c, true);
    }

    @ParameterizedTest(name = "bad values at rows {0} and {1}, class {2}: row {3} named")
    @CsvSource({
        "100, -1, 3, 100",
        "101, -1, 3, 101",
        "101, -1, 36, 101",
        "100, 101, 33, 100",
        "199, -1, 20, 199"})
    void givenANonFiniteTeacherLogit_whenLtkdIsFused_thenTheErrorNamesItsRowAndClass(int row, int other, int at,
                                                                                     int named) {
        // Given 200 rows of 37 classes (one thread: the batch is too small to split), NaN at one or two rows
        int c = 37;
        Random rnd = new Random(row * 7L + at);
        double[] s = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        t[row * c + at] = Double.NaN;
        if (other >= 0) {
            t[other * c + at] = Double.NaN;
        }
        FusedObjective f = FusedObjective.compile(Objective.parse("Ltkd(temperature=2.0, classGroups="
                + FusedDecoupledTest.ranges(c) + ")"), 2).orElseThrow();
        assertTrue(ROWS * (long) c < FusedObjective.PARALLEL_THRESHOLD, "one thread takes the rows in order");

        // When fused
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.evaluate(
                rows(s, c, "off-heap"), rows(t, c, "off-heap"), null, null, null, 1.0 / ROWS));

        // Then the error names the first bad row in order, and the class
        assertEquals("teacher_logits must be finite, got NaN at row " + named + ", class " + at, e.getMessage());
    }

    /** All rows, every third row from row 1 masked, or only the even rows valid. */
    private static boolean[] mask(String kind) {
        if (kind.equals("none")) {
            return null;
        }
        if (kind.equals("every third")) {
            return ReferenceCheck.mask(ROWS, true);
        }
        boolean[] valid = new boolean[ROWS];
        for (int i = 0; i < ROWS; i += 2) {
            valid[i] = true;
        }
        return valid;
    }

    private static DenseRows rows(double[] x, int c, String storage) {
        int n = x.length / c;
        if (storage.equals("float[]")) {
            float[] f = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                f[i] = (float) x[i];
            }
            return DenseRows.wrap(f, n, c);
        }
        return DenseRows.of(Nd4j.create(x, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT));
    }
}
