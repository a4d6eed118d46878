package io.kd4j.losses.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.feature.FeatureInput;
import io.kd4j.losses.feature.FeatureLoss;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Shared checks for feature losses: finite differences in double, dtypes, generic bad inputs. */
public final class FeatureChecks {
    private FeatureChecks() {
    }

    /** Random float64 features in [-scale, scale]. */
    public static INDArray random(long seed, double scale, long... shape) {
        return LossChecks.randomLogits(new Random(seed), scale, shape);
    }

    /** A float64 array from flat values and a shape. */
    public static INDArray array(double[] values, long... shape) {
        return Nd4j.create(values, shape, DataType.DOUBLE);
    }

    /** A [batch, time] mask with the given invalid (b, t) pairs set to 0. */
    public static INDArray mask(int batch, int time, int[]... invalid) {
        INDArray m = Nd4j.ones(DataType.DOUBLE, batch, time);
        for (int[] bt : invalid) {
            m.putScalar(bt[0], bt[1], 0.0);
        }
        return m;
    }

    /**
     * Central differences of the value against the analytic gradient, float64, for every student
     * element: {@code |a − n| ≤ 1e-8} or relative error ≤ 1e-5 (DL4J GradientCheckUtil style).
     */
    public static void assertGradient(FeatureLoss loss, INDArray student, INDArray teacher, INDArray mask) {
        INDArray s = student.castTo(DataType.DOUBLE).dup();
        INDArray analytic = loss.compute(new FeatureInput(s, teacher, mask)).studentGradient();
        assertEquals(DataType.DOUBLE, analytic.dataType());
        assertArrayEquals(s.shape(), analytic.shape());
        double eps = 1e-6;
        INDArray flat = s.reshape(s.length());
        INDArray aFlat = analytic.reshape(analytic.length());
        for (long i = 0; i < s.length(); i++) {
            double orig = flat.getDouble(i);
            flat.putScalar(i, orig + eps);
            double plus = loss.compute(new FeatureInput(s, teacher, mask)).value();
            flat.putScalar(i, orig - eps);
            double minus = loss.compute(new FeatureInput(s, teacher, mask)).value();
            flat.putScalar(i, orig);
            double numeric = (plus - minus) / (2 * eps);
            double a = aFlat.getDouble(i);
            double diff = Math.abs(a - numeric);
            double rel = diff / Math.max(Math.abs(a), Math.abs(numeric));
            assertTrue(diff <= 1e-8 || rel <= 1e-5, "gradient of " + loss.describe() + " at element " + i
                    + ": analytic " + a + " vs numeric " + numeric + " (relative error " + rel + ")");
        }
    }

    /** float32 inputs give the float64 value to 1e-5 (relative) and a float32 gradient of the same shape. */
    public static void assertFloat32MatchesFloat64(FeatureLoss loss, INDArray s, INDArray t) {
        LossResult d = loss.compute(FeatureInput.of(s, t));
        INDArray s32 = s.castTo(DataType.FLOAT);
        INDArray t32 = t.castTo(DataType.FLOAT);
        LossResult f = loss.compute(FeatureInput.of(s32, t32));
        // the float64 reference evaluated on the float32-rounded inputs: only the output cast differs
        LossResult r = loss.compute(FeatureInput.of(s32.castTo(DataType.DOUBLE), t32.castTo(DataType.DOUBLE)));
        assertEquals(DataType.FLOAT, f.studentGradient().dataType());
        assertArrayEquals(s.shape(), f.studentGradient().shape());
        assertEquals(r.value(), f.value(), 0.0, "float32 inputs are computed in double");
        assertEquals(d.value(), f.value(), 1e-5 * Math.max(1, Math.abs(d.value())));
    }

    /** Errors shared by every feature loss: NaN, integer dtype, batch mismatch, ranks, a mask on rank 2. */
    public static void assertRejectsGenericBadInputs(FeatureLoss loss, INDArray s, INDArray t) {
        String n = loss.name() + ": ";
        INDArray nan = s.dup();
        nan.reshape(nan.length()).putScalar(1, Double.NaN);
        assertMessage(n + "student_features must be finite, got NaN at flat index 1 of shape "
                        + java.util.Arrays.toString(s.shape()),
                () -> loss.compute(FeatureInput.of(nan, t)));
        INDArray inf = t.dup();
        inf.reshape(inf.length()).putScalar(0, Double.POSITIVE_INFINITY);
        assertMessage(n + "teacher_features must be finite, got Infinity at flat index 0 of shape "
                        + java.util.Arrays.toString(t.shape()),
                () -> loss.compute(FeatureInput.of(s, inf)));
        assertMessage(n + "student_features must be floating point, got INT",
                () -> loss.compute(FeatureInput.of(s.castTo(DataType.INT), t)));
        INDArray one = t.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> loss.compute(FeatureInput.of(s, one)))
                .getMessage().startsWith(n + "student_features and teacher_features must have the same batch size, got "
                        + s.size(0) + " and 1"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> loss.compute(FeatureInput.of(Nd4j.create(DataType.DOUBLE, 4), t))).getMessage()
                .startsWith(n + "student_features must have rank 2 [batch, features], 3 [batch, size, time] or 4"));
        if (s.rank() == 2 && t.rank() == 2) {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> loss.compute(new FeatureInput(s, t, Nd4j.ones(DataType.DOUBLE, s.size(0), 1)))).getMessage()
                    .startsWith(n + "a mask applies to recurrent [batch, size, time] features only"));
        }
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> loss.compute(LossInput.of(s).teacherLogits(t).build())).getMessage()
                .contains("is a feature loss"));
        assertThrows(NullPointerException.class, () -> FeatureInput.of(s, null));
    }

    /** Asserts an IllegalArgumentException with exactly this message. */
    public static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    /** The catalogue creates the loss by name (case-insensitive), its describe() names it, unknown keys fail. */
    public static void assertCatalogueEntry(String name, Map<String, String> params, String describe) {
        DistillationLoss loss = LossCatalogue.create(name.toLowerCase(java.util.Locale.ROOT), params);
        assertTrue(loss instanceof FeatureLoss, name + " is a feature loss");
        assertEquals(describe, loss.describe());
        Map<String, String> bad = new LinkedHashMap<>(params);
        bad.put("nonsense", "1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LossCatalogue.create(name, bad));
        assertTrue(e.getMessage().contains("unknown parameter [nonsense] for loss " + name), e.getMessage());
    }

    /** Value of the loss. */
    public static double value(FeatureLoss loss, INDArray s, INDArray t) {
        return loss.compute(FeatureInput.of(s, t)).value();
    }

    /** All values finite. */
    public static void assertFinite(LossResult r) {
        assertTrue(Double.isFinite(r.value()), "value " + r.value());
        LossChecks.assertFinite(r.studentGradient(), "gradient");
    }
}
