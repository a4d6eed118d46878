package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.catalogue.Objective;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory behind a {@link DenseRows} stays valid while the rows are used. A view (here a transposed
 * array) is copied by {@link DenseRows#of} into a c-ordered array that nothing but the rows refers to;
 * ND4J frees an array's off-heap memory once the garbage collector finds the array unreachable, and the
 * NIO views the kernels read do not keep it reachable. Before the rows held their array, this test read
 * freed memory that the filler arrays had overwritten (and the kernel tests failed now and then in CI).
 */
class DenseRowsLifetimeTest {
    private static final int ROWS = 40;
    private static final int CLASSES = 50;

    @Test
    void givenRowsCopiedFromAView_whenTheGarbageCollectorRunsAndMemoryIsReused_thenTheRowsStillReadTheCopy() throws Exception {
        // Given: rows whose backing array exists only inside the DenseRows (the transposed view is copied)
        float[] expected = new float[ROWS * CLASSES];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (i % 97) * 0.25f - 3f;
        }
        DenseRows rows = DenseRows.of(transposedView(expected));
        List<INDArray> filler = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            // When: collections run and same-sized off-heap arrays full of 1e6 are allocated
            System.gc();
            Thread.sleep(20);
            for (int k = 0; k < 20; k++) {
                filler.add(Nd4j.valueArrayOf(new long[] {ROWS, CLASSES}, 1e6f));
            }
            // Then: every value still reads as written
            for (int r = 0; r < ROWS; r++) {
                for (int c = 0; c < CLASSES; c++) {
                    assertEquals(expected[r * CLASSES + c], rows.value(r, c), 0.0, "round " + round + ", (" + r + ", " + c + ")");
                }
            }
        }
    }

    @Test
    void givenViewsEvaluatedAfterCollections_whenFused_thenTheValueEqualsThatOfHeldArrays() throws Exception {
        // Given: student and teacher views copied inside DenseRows.of, and the same rows as c-ordered
        // off-heap arrays that this test holds (the same kernel path: off-heap rows take VectorPairLoad)
        float[] s = new float[ROWS * CLASSES];
        float[] t = new float[ROWS * CLASSES];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.sin(i * 0.37) * 3;
            t[i] = (float) Math.cos(i * 0.11) * 3;
        }
        FusedObjective kd = FusedObjective.compile(Objective.parse("SoftTargetKl(temperature=2.0)"), 0).orElseThrow();
        INDArray heldStudent = Nd4j.create(s, new long[] {ROWS, CLASSES}, 'c');
        INDArray heldTeacher = Nd4j.create(t, new long[] {ROWS, CLASSES}, 'c');
        double reference = kd.evaluate(DenseRows.of(heldStudent), DenseRows.of(heldTeacher), null, null, null, 1.0)
                .value();
        DenseRows student = DenseRows.of(transposedView(s));
        DenseRows teacher = DenseRows.of(transposedView(t));
        List<INDArray> filler = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            System.gc();
            Thread.sleep(20);
            for (int k = 0; k < 20; k++) {
                filler.add(Nd4j.valueArrayOf(new long[] {ROWS, CLASSES}, 50f));
            }
            // When
            double value = kd.evaluate(student, teacher, null, null, null, 1.0).value();
            // Then
            assertEquals(reference, value, 1e-12 * Math.abs(reference), "round " + round);
        }
        assertEquals(s[1], heldStudent.getFloat(0, 1), 0.0);
        assertEquals(t[1], heldTeacher.getFloat(0, 1), 0.0);
    }

    /** A [ROWS, CLASSES] f-ordered view of row-major values: DenseRows.of must copy it. */
    private static INDArray transposedView(float[] rowMajor) {
        return Nd4j.create(rowMajor, new long[] {ROWS, CLASSES}, 'c').transpose().dup('c').transpose();
    }
}
