package io.kd4j.losses.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shared test helpers for catalogue losses: a central finite-difference gradient check in double
 * precision (DL4J GradientCheckUtil style: relative error with an absolute floor), random inputs,
 * and row-sum checks.
 */
public final class LossChecks {
    private LossChecks() {
    }

    /** Random logits in [-scale, scale], float64. */
    public static INDArray randomLogits(Random rnd, double scale, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] d = new double[(int) n];
        for (int i = 0; i < d.length; i++) {
            d[i] = (rnd.nextDouble() * 2 - 1) * scale;
        }
        return Nd4j.create(d, shape, DataType.DOUBLE);
    }

    /** Random class indices in [0, classes), shape {@code shape}, float64. */
    public static INDArray randomLabels(Random rnd, int classes, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] d = new double[(int) n];
        for (int i = 0; i < d.length; i++) {
            d[i] = rnd.nextInt(classes);
        }
        return Nd4j.create(d, shape, DataType.DOUBLE);
    }

    /**
     * Checks the analytic gradient against central differences of the value, in double precision:
     * for every element, {@code |a - n| <= maxRelError * max(|a|, |n|)} or {@code |a - n| <= absFloor}.
     *
     * @param withStudent rebuilds the input around perturbed student logits
     */
    public static void assertGradientMatchesFiniteDifferences(DistillationLoss loss, INDArray student,
                                                              UnaryOperator<LossInput.Builder> withStudent) {
        INDArray s = student.castTo(DataType.DOUBLE).dup();
        LossResult base = loss.compute(withStudent.apply(LossInput.of(s)).build());
        INDArray analytic = base.studentGradient();
        double eps = 1e-6;
        double maxRelError = 1e-5;
        double absFloor = 1e-8;
        long n = s.length();
        for (long i = 0; i < n; i++) {
            double orig = s.getDouble(i);
            s.putScalar(i, orig + eps);
            double plus = loss.compute(withStudent.apply(LossInput.of(s)).build()).value();
            s.putScalar(i, orig - eps);
            double minus = loss.compute(withStudent.apply(LossInput.of(s)).build()).value();
            s.putScalar(i, orig);
            double numeric = (plus - minus) / (2 * eps);
            double a = analytic.getDouble(i);
            double diff = Math.abs(a - numeric);
            double rel = diff / Math.max(Math.abs(a), Math.abs(numeric));
            assertTrue(diff <= absFloor || rel <= maxRelError,
                    "gradient of " + loss.describe() + " at element " + i + ": analytic " + a + " vs numeric "
                            + numeric + " (relative error " + rel + ")");
        }
    }

    /** Asserts that each row (over classes, dim 1) of a gradient sums to 0, as for softmax outputs. */
    public static void assertRowsSumToZero(INDArray gradient, double tol) {
        INDArray sums = gradient.castTo(DataType.DOUBLE).sum(1);
        for (long i = 0; i < sums.length(); i++) {
            assertEquals(0.0, sums.getDouble(i), tol, "gradient row " + i + " sum");
        }
    }

    /** Asserts all values finite. */
    public static void assertFinite(INDArray a, String what) {
        double[] d = a.castTo(DataType.DOUBLE).dup().data().asDouble();
        for (int i = 0; i < d.length; i++) {
            assertTrue(Double.isFinite(d[i]), what + " is not finite at " + i + ": " + d[i]);
        }
    }

    /** A float64 row-vector matrix from literal rows. */
    public static INDArray matrix(double[][] rows) {
        return Nd4j.create(rows).castTo(DataType.DOUBLE);
    }

    /** A float64 vector. */
    public static INDArray vector(double... values) {
        return Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE);
    }
}
