package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The float32 vector kernel keeps a row's gradient in its row buffer and writes it to an off-heap gradient
 * array while it reads the next row of the same chunk ({@link VectorPairLoad}), or when the chunk ends
 * ({@link RowKernel#finish}); for an objective whose only term is KD, TVD, the JSD, DKD or LTKD, or whose two
 * terms are KD or DKD and a cross-entropy at an integer temperature (with and without label smoothing), it
 * keeps the gradient as its formula ({@link LazyGradient}), which that write evaluates from the row buffers
 * before the next row's exponentials replace them (LTKD's blocks of one group as their group's formula; its
 * other blocks and the tail written to the row buffer first: class groups by ranges and mixed). These
 * batches have many rows per chunk, masked rows and rows whose
 * load pass falls back to the row maxima between them, and a gradient array filled with NaN first: a row
 * that is never written, or written with another row's gradient, fails the comparison with the reference
 * path.
 * In the default (scalar) execution the same cases check the scalar kernel.
 */
class DeferredGradientTest {
    /** Rows: at least 2 per chunk (a chunk is {@code n / (8 · cores)} rows) on machines of up to 12 cores. */
    private static final int ROWS = 200;

    record Case(String formula, int classes, boolean masked) {
        @Override
        public String toString() {
            return formula + " " + classes + " classes" + (masked ? " masked" : "");
        }
    }

    static Stream<Case> cases() {
        Stream.Builder<Case> b = Stream.builder();
        List<String> formulas = List.of(
                "SoftTargetKl(temperature=4.0)",
                "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=2.0)",
                "SoftTargetKl(temperature=4.0) + 0.5*CrossEntropy(labelSmoothing=0.1)",
                "CrossEntropy + Dkd(temperature=3.0, warmupEpochs=1.0)",
                "ReverseKl(temperature=2.0)",
                "TotalVariation(temperature=2.0)",
                "GeneralizedJsd(teacherMixWeight=0.3, temperature=4.0)",
                "Dkd(temperature=4.0, warmupEpochs=1.0)",
                "0.5*SoftTargetKl(temperature=1.0, standardize=true) + 0.5*SoftTargetKl(temperature=3.0)",
                "Ltkd(temperature=2.0, classGroups={g})",
                "Ltkd(temperature=4.0, classGroups={r})",
                "Ltkd(temperature=4.0, classGroups={e})");
        for (String f : formulas) {
            for (int c : new int[] {2061, 37}) {
                b.add(new Case(f, c, c == 37));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenManyRowsPerChunk_whenFusedOnOffHeapRows_thenEveryRowGetsItsOwnGradient(Case tc) {
        // Given 200 rows, every fifth with its teacher maximum far above its first values (that row's
        // exponentials are taken again with the maximum), and a gradient array full of NaN
        int c = tc.classes();
        Random rnd = new Random(c + tc.formula().hashCode());
        double[] s = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        for (int i = 4; i < ROWS; i += 5) {
            t[i * c + c - 1] = 500;
        }
        int[] labels = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            labels[i] = ReferenceCheck.argmax(t, i, c);
        }
        boolean[] valid = ReferenceCheck.mask(ROWS, tc.masked());
        int count = ReferenceCheck.count(valid, ROWS);
        Objective objective = Objective.parse(tc.formula().replace("{g}", FusedDecoupledTest.groups(c, true))
                .replace("{r}", FusedDecoupledTest.ranges(c)).replace("{e}", tailGroups(c)));
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, ROWS, c, valid,
                DataType.DOUBLE, "test"), 2);
        INDArray ga = Nd4j.valueArrayOf(new long[] {ROWS, c}, Float.NaN, DataType.FLOAT);

        // When fused on off-heap float32 arrays
        FusedResult r = FusedObjective.compile(objective, 2).orElseThrow()
                .evaluate(DenseRows.of(floats(s, c)), DenseRows.of(floats(t, c)), labels, valid, DenseRows.of(ga),
                        1.0 / count);

        // Then every row's gradient (zero for a masked row), the value and the terms equal the reference
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, valid, ROWS, c, true);
    }

    @Test
    void givenABatchThatFailsMidChunk_whenTheNextBatchIsFused_thenItsGradientIsItsOwn() {
        // Given KD, and a batch whose row 150 holds a NaN in the student
        int c = 2061;
        Random rnd = new Random(7);
        double[] s = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        double[] t = ReferenceCheck.logits(rnd, ROWS * c, true, 3);
        Objective objective = Objective.parse("SoftTargetKl(temperature=2.0)");
        FusedObjective fused = FusedObjective.compile(objective, 2).orElseThrow();
        double[] bad = s.clone();
        bad[150 * c + 3] = Double.NaN;
        INDArray badGrad = Nd4j.valueArrayOf(new long[] {ROWS, c}, Float.NaN, DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fused.evaluate(DenseRows.of(floats(bad, c)), DenseRows.of(floats(t, c)), null, null,
                        DenseRows.of(badGrad), 1.0 / ROWS));
        // (a parallel stream rethrows a worker thread's error wrapped in one of the same type)
        assertTrue(e.getMessage().contains("student_logits must be finite, got NaN at row 150, class 3"),
                e.getMessage());

        // When the same objective is fused on a good batch, on the same threads
        INDArray ga = Nd4j.valueArrayOf(new long[] {ROWS, c}, Float.NaN, DataType.FLOAT);
        FusedResult r = fused.evaluate(DenseRows.of(floats(s, c)), DenseRows.of(floats(t, c)), null, null,
                DenseRows.of(ga), 1.0 / ROWS);

        // Then its value and every row's gradient equal the reference: nothing of the failed batch is left
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, null, 0, null, null, ROWS, c, null,
                DataType.DOUBLE, "test"), 2);
        ReferenceCheck.assertMatches(ref, r, ga.data().asFloat(), null, null, ROWS, c, true);
    }

    /**
     * Head for the classes of the vector loops (all but the last {@code c % 16}: 2,048 of 2,061, 32 of 37, with 8
     * or 16 lanes), medium and tail by turns after them: LTKD's last block is of one group, its scalar tail of two
     * others.
     */
    private static String tailGroups(int c) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < c; j++) {
            b.append(j == 0 ? "" : ";").append(j < c - c % 16 ? "head" : j % 2 == 0 ? "medium" : "tail");
        }
        return b.toString();
    }

    private static INDArray floats(double[] x, int c) {
        return Nd4j.create(x, new long[] {x.length / c, c}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }
}
