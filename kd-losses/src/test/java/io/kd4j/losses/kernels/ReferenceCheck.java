package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shared checks of the kernel tests: a fused result against the reference path's {@link RowsResult}
 * (the catalogue classes on double rows), with the tolerances of docs/performance.md: 2e-5 relative
 * for float32, 1e-10 for float64.
 */
final class ReferenceCheck {
    private ReferenceCheck() {
    }

    /** Gaussian logits with standard deviation {@code spread}, rounded to float when asked. */
    static double[] logits(Random rnd, int size, boolean float32, double spread) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            double v = rnd.nextGaussian() * spread;
            x[i] = float32 ? (float) v : v;
        }
        return x;
    }

    /** Valid rows 0, 2, 3, 5, 6, ... (every third row from row 1 masked), or null. */
    static boolean[] mask(int n, boolean masked) {
        if (!masked) {
            return null;
        }
        boolean[] valid = new boolean[n];
        for (int i = 0; i < n; i++) {
            valid[i] = i % 3 != 1;
        }
        return valid;
    }

    static int count(boolean[] valid, int n) {
        if (valid == null) {
            return n;
        }
        int c = 0;
        for (boolean v : valid) {
            c += v ? 1 : 0;
        }
        return c;
    }

    /** The index of the largest value of row {@code i}. */
    static int argmax(double[] x, int i, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) {
            if (x[i * c + j] > x[i * c + best]) {
                best = j;
            }
        }
        return best;
    }

    /**
     * Value, per-row values (or their absence), gradient of all rows (invalid rows zero) and every named
     * term of the reference, against the fused result.
     */
    static void assertMatches(RowsResult ref, FusedResult r, float[] gradF, double[] gradD, boolean[] valid, int n,
                              int c, boolean float32) {
        int count = count(valid, n);
        double valueTol = float32 ? 2e-5 * Math.max(1, Math.abs(ref.value())) : 1e-10 * Math.max(1, Math.abs(ref.value()));
        assertEquals(ref.value(), r.value(), valueTol, "value");
        assertEquals(count, r.validRows(), "valid rows");
        if (ref.rowValues() == null) {
            assertNull(r.rowValues(), "a batch-coupled objective has no per-row values");
        } else {
            assertNotNull(r.rowValues(), "row values");
            for (int i = 0, j = 0; i < n; i++) {
                if (valid == null || valid[i]) {
                    double e = ref.rowValues()[j++];
                    double tol = float32 ? 2e-5 * Math.max(1, Math.abs(e)) : 1e-10 * Math.max(1, Math.abs(e));
                    assertEquals(e, r.rowValues()[i], tol, "row value " + i);
                } else {
                    assertEquals(0.0, r.rowValues()[i], 0.0, "invalid row " + i);
                }
            }
        }
        double[] expected = new double[n * c];
        for (int i = 0, j = 0; i < n; i++) {
            if (valid == null || valid[i]) {
                System.arraycopy(ref.gradient(), j++ * c, expected, i * c, c);
            }
        }
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double gradTol = float32 ? 2e-5 * scale + 1e-9 : 1e-10 * scale + 1e-15;
        double[] actual = new double[n * c];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = gradF != null ? gradF[i] : gradD[i];
        }
        assertArrayEquals(expected, actual, gradTol, "gradient");
        for (var e : ref.terms().entrySet()) {
            Double got = r.terms().get(e.getKey());
            assertNotNull(got, "term " + e.getKey() + " missing from " + r.terms().keySet());
            double tol = float32 ? 2e-5 * Math.max(1, Math.abs(e.getValue())) : 1e-10 * Math.max(1, Math.abs(e.getValue()));
            assertEquals(e.getValue(), got, tol, "term " + e.getKey());
        }
    }

    /**
     * Rows far from 0: row {@code i} of the student at {@code offset (1 + i/7)} and of the teacher at minus
     * half that, each plus Gaussian noise of standard deviation {@code spread} (the teacher's the student's
     * own with {@code sharedNoise}), rounded to float; returns {student, teacher}.
     */
    static double[][] offsetRows(Random rnd, int n, int c, double offset, double spread, boolean sharedNoise) {
        double[] s = new double[n * c];
        double[] t = new double[n * c];
        for (int i = 0; i < n; i++) {
            double at = offset * (1 + i / 7.0);
            for (int j = 0; j < c; j++) {
                double noise = spread * rnd.nextGaussian();
                s[i * c + j] = (float) (at + noise);
                t[i * c + j] = (float) (-at / 2 + (sharedNoise ? noise : spread * rnd.nextGaussian()));
            }
        }
        return new double[][] {s, t};
    }

    /** Labels {@code 131 i mod c}: spread over the classes. */
    static int[] spreadLabels(int n, int c) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (i * 131) % c;
        }
        return labels;
    }

    /**
     * Fuses {@code objective} on float32 copies of the rows {@code s} and {@code t} (double values that are
     * floats), held off-heap (ND4J arrays, into a gradient array full of NaN) and on the heap (Java arrays),
     * and checks value, terms and every row's gradient of both against the double reference on the same rows.
     */
    static void assertFloat32MatchesReference(Objective objective, double[] s, double[] t, int[] labels, int n,
                                              int c) {
        RowsResult ref = objective.evaluate(LogitRows.ofMatrix(s, t, labels, 0, null, null, n, c, null,
                DataType.DOUBLE, "test"), 2);
        FusedObjective fused = FusedObjective.compile(objective, 2).orElseThrow();
        INDArray ga = Nd4j.valueArrayOf(new long[] {n, c}, Float.NaN, DataType.FLOAT);
        FusedResult r = fused.evaluate(
                DenseRows.of(Nd4j.create(s, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT)),
                DenseRows.of(Nd4j.create(t, new long[] {n, c}, DataType.DOUBLE).castTo(DataType.FLOAT)),
                labels, null, DenseRows.of(ga), 1.0 / n);
        assertMatches(ref, r, ga.data().asFloat(), null, null, n, c, true);
        float[] sf = new float[n * c];
        float[] tf = new float[n * c];
        for (int i = 0; i < sf.length; i++) {
            sf[i] = (float) s[i];
            tf[i] = (float) t[i];
        }
        float[] g = new float[n * c];
        Arrays.fill(g, Float.NaN);
        FusedResult h = fused.evaluate(DenseRows.wrap(sf, n, c), DenseRows.wrap(tf, n, c), labels, null,
                DenseRows.wrap(g, n, c), 1.0 / n);
        assertMatches(ref, h, g, null, null, n, c, true);
    }
}
