package io.kd4j.losses.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.catalogue.Objective;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Contract checks shared by the divergence-loss tests (dense teacher logits or a top-k teacher).
 * Expected values always come from a reference row function supplied by the test, never from the
 * loss under test.
 */
public final class DivergenceChecks {
    private DivergenceChecks() {
    }

    /** A reference value for one row: teacher logits, student logits. */
    @FunctionalInterface
    public interface RowValue {
        double of(double[] teacher, double[] student);
    }

    /** Row {@code b} (rank 2) or position {@code (b, t)} (rank 3) of a logits array, as doubles. */
    public static double[] row(INDArray a, int b, int t) {
        int c = (int) a.size(1);
        double[] r = new double[c];
        for (int j = 0; j < c; j++) {
            r[j] = a.rank() == 3 ? a.getDouble(b, j, t) : a.getDouble(b, j);
        }
        return r;
    }

    /** Asserts value == mean over rows of {@code ref}, on random {@code [batch, classes]} logits. */
    public static void assertMatchesReferenceOnBatch(DistillationLoss loss, RowValue ref, long seed, double scale,
                                                     int batch, int classes, double tol) {
        Random rnd = new Random(seed);
        INDArray s = LossChecks.randomLogits(rnd, scale, batch, classes);
        INDArray t = LossChecks.randomLogits(rnd, scale, batch, classes);
        double expected = 0;
        for (int b = 0; b < batch; b++) {
            expected += ref.of(row(t, b, 0), row(s, b, 0));
        }
        expected /= batch;
        assertEquals(expected, loss.compute(LossInput.of(s).teacherLogits(t).build()).value(), tol);
    }

    /**
     * On {@code [batch=2, classes=4, time=3]} with two masked positions: value is the token mean of
     * {@code ref} over the valid positions, masked positions get a zero gradient, and the gradient
     * matches finite differences.
     */
    public static void assertMaskedSequenceTokenMean(DistillationLoss loss, RowValue ref, long seed) {
        Random rnd = new Random(seed);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray mask = LossChecks.matrix(new double[][] {{1, 1, 0}, {1, 0, 1}});
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        int[][] valid = {{0, 0}, {0, 1}, {1, 0}, {1, 2}};
        double expected = 0;
        for (int[] bt : valid) {
            expected += ref.of(row(t, bt[0], bt[1]), row(s, bt[0], bt[1]));
        }
        assertEquals(expected / valid.length, r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 2), 0.0, "masked (0, 2) gradient");
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 1), 0.0, "masked (1, 1) gradient");
        }
        LossChecks.assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    /** Finite-difference gradient check on random {@code [3, 5]} logits. */
    public static void assertGradientOnMatrix(DistillationLoss loss, long seed) {
        Random rnd = new Random(seed);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        LossChecks.assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t));
    }

    /** Student == teacher gives value 0 and gradient 0. */
    public static void assertZeroAtEquality(DistillationLoss loss) {
        INDArray s = LossChecks.randomLogits(new Random(1), 4, 3, 7);
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(s.dup()).build());
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
    }

    /** The batch stacked twice gives the same value; each gradient row sums to zero. */
    public static void assertBatchIndependentAndRowsSumToZero(DistillationLoss loss) {
        Random rnd = new Random(5);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 6);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 6);
        LossResult one = loss.compute(LossInput.of(s).teacherLogits(t).build());
        LossResult twice = loss.compute(LossInput.of(Nd4j.vstack(s, s)).teacherLogits(Nd4j.vstack(t, t)).build());
        assertEquals(one.value(), twice.value(), 1e-12);
        assertTrue(one.value() > 0, "a non-trivial input must give a positive value, got " + one.value());
        LossChecks.assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    /** ±1e4 float32 logits give a finite value and a finite float32 gradient. */
    public static void assertFiniteAtFloat32Extremes(DistillationLoss loss) {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}, {1e4f, 1e4f, -1e4f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}, {1e4f, -1e4f, 1e4f}});
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).build());
        assertTrue(Double.isFinite(r.value()), "value " + r.value());
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        LossChecks.assertFinite(r.studentGradient(), "gradient");
    }

    /** NaN logits, mismatched teacher shape and a missing teacher are rejected with clear messages. */
    public static void assertRejectsBadDenseInputs(DistillationLoss loss) {
        INDArray s = LossChecks.matrix(new double[][] {{0, 1}});
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(LossChecks.matrix(new double[][] {{0, 1, 2}})).build()));
        assertTrue(shape.getMessage().contains("teacher_logits shape [1, 3] must equal student_logits shape [1, 2]"),
                shape.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(LossChecks.matrix(new double[][] {{Double.NaN, 1}})).teacherLogits(s).build()));
        assertTrue(nan.getMessage().contains("student_logits must be finite, got NaN at row 0, class 0"),
                nan.getMessage());
        IllegalArgumentException teacherNan = assertThrows(IllegalArgumentException.class, () -> loss.compute(
                LossInput.of(s).teacherLogits(LossChecks.matrix(new double[][] {{0, Double.NaN}})).build()));
        assertTrue(teacherNan.getMessage().contains("teacher_logits must be finite, got NaN at row 0, class 1"),
                teacherNan.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).build()));
        assertTrue(missing.getMessage().contains("requires teacher_logits"), missing.getMessage());
    }

    /** describe() parses back through Objective.parse to the same description. */
    public static void assertDescribeRoundTrips(DistillationLoss loss) {
        Objective parsed = Objective.parse(loss.describe());
        assertEquals(1, parsed.terms().size());
        assertEquals(loss.describe(), parsed.terms().get(0).loss().describe());
    }

    /**
     * A top-k teacher from dense teacher logits: per row (or position), the k largest classes and
     * their log-probabilities {@code log softmax(t / T)} over the full vocabulary, computed plainly.
     */
    public static TopKTeacher topKOf(INDArray teacherLogits, int k, double temperature) {
        boolean seq = teacherLogits.rank() == 3;
        int batch = (int) teacherLogits.size(0);
        int time = seq ? (int) teacherLogits.size(2) : 1;
        long[] shape = seq ? new long[] {batch, k, time} : new long[] {batch, k};
        INDArray idx = Nd4j.create(DataType.DOUBLE, shape);
        INDArray lp = Nd4j.create(DataType.DOUBLE, shape);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                double[] p = Reference.softmax(row(teacherLogits, b, t), temperature);
                Integer[] order = new Integer[p.length];
                for (int j = 0; j < p.length; j++) {
                    order[j] = j;
                }
                Arrays.sort(order, (x, y) -> Double.compare(p[y], p[x]));
                for (int i = 0; i < k; i++) {
                    if (seq) {
                        idx.putScalar(new long[] {b, i, t}, order[i]);
                        lp.putScalar(new long[] {b, i, t}, Math.log(p[order[i]]));
                    } else {
                        idx.putScalar(new long[] {b, i}, order[i]);
                        lp.putScalar(new long[] {b, i}, Math.log(p[order[i]]));
                    }
                }
            }
        }
        return new TopKTeacher(idx, lp);
    }

    /** The indices of row {@code b} (position {@code t}) of a top-k teacher. */
    public static int[] topIndices(TopKTeacher top, int b, int t) {
        double[] d = row(top.indices(), b, t);
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (int) d[i];
        }
        return out;
    }

    /** The log-probabilities of row {@code b} (position {@code t}) of a top-k teacher. */
    public static double[] topLogProbs(TopKTeacher top, int b, int t) {
        return row(top.logProbs(), b, t);
    }
}
