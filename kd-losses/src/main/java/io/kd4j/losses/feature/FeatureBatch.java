package io.kd4j.losses.feature;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A validated feature-loss input in double precision: student and teacher activations flattened in
 * row-major order, the valid steps of recurrent activations, and the layouts the losses read
 * (per-example vectors, per-step rows). {@link #scatter} turns a flat gradient back into the
 * student's shape and data type, with zeros at masked steps.
 *
 * <p>All generic validation happens here (rank 2 to 4, floating point, same batch size, finite
 * values, mask only for rank-3 activations and shaped {@code [batch, time]}); each loss adds its
 * shape rule with {@link #requireSameShape()}, {@link #requireSameTrailing()} or
 * {@link #requireRank(int, int)}. Messages name the loss, the input, the rule and the value.
 */
public final class FeatureBatch {
    private final String lossName;
    private final double[] student;
    private final double[] teacher;
    private final long[] studentShape;
    private final long[] teacherShape;
    private final DataType dataType;
    /** Valid steps of rank-3 activations, index {@code b * time + t}; null when every step is valid. */
    private final boolean[] valid;

    private FeatureBatch(String lossName, double[] student, double[] teacher, long[] studentShape,
                         long[] teacherShape, DataType dataType, boolean[] valid) {
        this.lossName = lossName;
        this.student = student;
        this.teacher = teacher;
        this.studentShape = studentShape;
        this.teacherShape = teacherShape;
        this.dataType = dataType;
        this.valid = valid;
    }

    /** Validates and flattens {@code input}; {@code lossName} prefixes every error message. */
    public static FeatureBatch from(FeatureInput input, String lossName) {
        INDArray s = input.studentFeatures();
        INDArray t = input.teacherFeatures();
        checkArray(s, "student_features", lossName);
        checkArray(t, "teacher_features", lossName);
        if (s.size(0) != t.size(0)) {
            throw new IllegalArgumentException(lossName + ": student_features and teacher_features must have the same "
                    + "batch size, got " + s.size(0) + " and " + t.size(0));
        }
        boolean[] valid = null;
        INDArray m = input.mask();
        if (m != null) {
            if (s.rank() != 3 || t.rank() != 3) {
                throw new IllegalArgumentException(lossName + ": a mask applies to recurrent [batch, size, time] features "
                        + "only, got student shape " + Arrays.toString(s.shape()) + " and teacher shape "
                        + Arrays.toString(t.shape()));
            }
            long time = s.size(2);
            long[] expected = {s.size(0), time};
            if (t.size(2) != time || !Arrays.equals(m.shape(), expected)) {
                throw new IllegalArgumentException(lossName + ": mask must be [batch, time] = " + Arrays.toString(expected)
                        + " with the same time length for teacher_features, got mask " + Arrays.toString(m.shape())
                        + " and teacher shape " + Arrays.toString(t.shape()));
            }
            double[] md = m.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            valid = new boolean[md.length];
            for (int i = 0; i < md.length; i++) {
                if (Double.isNaN(md[i])) {
                    throw new IllegalArgumentException(lossName + ": mask must not hold NaN, got NaN at " + i);
                }
                valid[i] = md[i] != 0;
            }
        }
        double[] sd = flat(s);
        double[] td = flat(t);
        FeatureBatch b = new FeatureBatch(lossName, sd, td, s.shape().clone(), t.shape().clone(), s.dataType(), valid);
        b.checkFinite(sd, b.studentShape, "student_features");
        b.checkFinite(td, b.teacherShape, "teacher_features");
        return b;
    }

    private static void checkArray(INDArray a, String name, String lossName) {
        if (a.rank() < 2 || a.rank() > 4) {
            throw new IllegalArgumentException(lossName + ": " + name + " must have rank 2 [batch, features], 3 [batch, "
                    + "size, time] or 4 [batch, channels, h, w], got shape " + Arrays.toString(a.shape()));
        }
        if (!a.dataType().isFPType()) {
            throw new IllegalArgumentException(lossName + ": " + name + " must be floating point, got " + a.dataType());
        }
        for (long d : a.shape()) {
            if (d < 1) {
                throw new IllegalArgumentException(lossName + ": " + name + " must be non-empty, got shape "
                        + Arrays.toString(a.shape()));
            }
        }
        if (a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(lossName + ": " + name + " has " + a.length() + " elements; at most "
                    + Integer.MAX_VALUE + " per call are supported");
        }
    }

    private static double[] flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private void checkFinite(double[] d, long[] shape, String name) {
        for (int i = 0; i < d.length; i++) {
            if (!Double.isFinite(d[i]) && validElement(i, shape)) {
                throw new IllegalArgumentException(lossName + ": " + name + " must be finite, got " + d[i]
                        + " at flat index " + i + " of shape " + Arrays.toString(shape));
            }
        }
    }

    private boolean validElement(int flatIndex, long[] shape) {
        if (valid == null) {
            return true;
        }
        int size = (int) shape[1];
        int time = (int) shape[2];
        int b = flatIndex / (size * time);
        int t = flatIndex % time;
        return valid[b * time + t];
    }

    /** Requires the student and teacher features to have the same shape. */
    public FeatureBatch requireSameShape() {
        if (!Arrays.equals(studentShape, teacherShape)) {
            throw new IllegalArgumentException(lossName + ": student_features shape " + Arrays.toString(studentShape)
                    + " must equal teacher_features shape " + Arrays.toString(teacherShape)
                    + " (add an adapter on the student tap to project it)");
        }
        return this;
    }

    /** Requires the same rank and the same sizes after the channel dimension (spatial or time). */
    public FeatureBatch requireSameTrailing() {
        boolean ok = studentShape.length == teacherShape.length;
        for (int d = 2; ok && d < studentShape.length; d++) {
            ok = studentShape[d] == teacherShape[d];
        }
        if (!ok) {
            throw new IllegalArgumentException(lossName + ": student_features " + Arrays.toString(studentShape)
                    + " and teacher_features " + Arrays.toString(teacherShape) + " must have the same rank and the same "
                    + "sizes after the channel dimension (resize the student tap with an adapter)");
        }
        return this;
    }

    /** Requires both ranks in {@code [min, max]}. */
    public FeatureBatch requireRank(int min, int max) {
        for (long[] shape : new long[][] {studentShape, teacherShape}) {
            if (shape.length < min || shape.length > max) {
                throw new IllegalArgumentException(lossName + ": features must have rank " + (min == max ? min
                        : "in [" + min + ", " + max + "]") + ", got student shape " + Arrays.toString(studentShape)
                        + " and teacher shape " + Arrays.toString(teacherShape));
            }
        }
        return this;
    }

    /** Rejects a mask (for losses defined on whole maps). */
    public FeatureBatch requireNoMask() {
        if (valid != null) {
            throw new IllegalArgumentException(lossName + ": does not support a mask; pass unmasked features");
        }
        return this;
    }

    /** Requires at least {@code min} examples (for losses over pairs of examples). */
    public FeatureBatch requireBatchAtLeast(int min) {
        if (batch() < min) {
            throw new IllegalArgumentException(lossName + ": needs a batch of at least " + min + " examples, got "
                    + batch());
        }
        return this;
    }

    public String lossName() {
        return lossName;
    }

    public int batch() {
        return (int) studentShape[0];
    }

    public int rank() {
        return studentShape.length;
    }

    public long[] studentShape() {
        return studentShape.clone();
    }

    public long[] teacherShape() {
        return teacherShape.clone();
    }

    /** Student features, flat row-major (do not modify). */
    public double[] student() {
        return student;
    }

    /** Teacher features, flat row-major (do not modify). */
    public double[] teacher() {
        return teacher;
    }

    public boolean masked() {
        return valid != null;
    }

    /** Size of dimension 1 (features, channels or recurrent size) of the student or the teacher. */
    public int channels(boolean ofStudent) {
        return (int) (ofStudent ? studentShape : teacherShape)[1];
    }

    /** Product of the sizes after dimension 1 (h·w, time, or 1 for dense features). */
    public int trailing(boolean ofStudent) {
        long[] shape = ofStudent ? studentShape : teacherShape;
        long p = 1;
        for (int d = 2; d < shape.length; d++) {
            p *= shape[d];
        }
        return (int) p;
    }

    /** Elements per example of the student or the teacher. */
    public int exampleWidth(boolean ofStudent) {
        return channels(ofStudent) * trailing(ofStudent);
    }

    /**
     * Per-example vectors {@code [batch, width]} (each example flattened row-major, as
     * {@code f.view(batch, -1)}), with masked steps set to 0.
     */
    public double[] examples(boolean ofStudent) {
        double[] src = ofStudent ? student : teacher;
        if (valid == null) {
            return src.clone();
        }
        double[] out = src.clone();
        int size = channels(ofStudent);
        int time = trailing(ofStudent);
        for (int b = 0; b < batch(); b++) {
            for (int c = 0; c < size; c++) {
                for (int t = 0; t < time; t++) {
                    if (!valid[b * time + t]) {
                        out[(b * size + c) * time + t] = 0;
                    }
                }
            }
        }
        return out;
    }

    /** Number of valid steps: examples for rank 2, valid (example, time) pairs for rank 3. */
    public int stepCount() {
        if (rank() == 2) {
            return batch();
        }
        if (rank() != 3) {
            throw new IllegalStateException(lossName + ": step rows need rank 2 or 3 features");
        }
        if (valid == null) {
            return batch() * trailing(true);
        }
        int n = 0;
        for (boolean v : valid) {
            n += v ? 1 : 0;
        }
        return n;
    }

    /**
     * Rows of one valid step each, {@code [stepCount, size]}: the examples of rank-2 features, the
     * valid {@code (example, time)} positions of rank-3 features (example-major, then time).
     */
    public double[] steps(boolean ofStudent) {
        double[] src = ofStudent ? student : teacher;
        if (rank() == 2) {
            return src.clone();
        }
        int size = channels(ofStudent);
        int time = trailing(ofStudent);
        double[] out = new double[stepCount() * size];
        int r = 0;
        for (int b = 0; b < batch(); b++) {
            for (int t = 0; t < time; t++) {
                if (valid == null || valid[b * time + t]) {
                    for (int c = 0; c < size; c++) {
                        out[r * size + c] = src[(b * size + c) * time + t];
                    }
                    r++;
                }
            }
        }
        return out;
    }

    /** The inverse of {@link #steps}: a student gradient in step rows to the flat student layout. */
    public double[] unsteps(double[] rowGradient) {
        if (rank() == 2) {
            return rowGradient.clone();
        }
        int size = channels(true);
        int time = trailing(true);
        double[] out = new double[student.length];
        int r = 0;
        for (int b = 0; b < batch(); b++) {
            for (int t = 0; t < time; t++) {
                if (valid == null || valid[b * time + t]) {
                    for (int c = 0; c < size; c++) {
                        out[(b * size + c) * time + t] = rowGradient[r * size + c];
                    }
                    r++;
                }
            }
        }
        return out;
    }

    /** A flat student gradient as an array of the student's shape and data type; masked steps set to 0. */
    public INDArray scatter(double[] gradient) {
        if (gradient.length != student.length) {
            throw new IllegalStateException(lossName + ": gradient has " + gradient.length + " elements, expected "
                    + student.length);
        }
        double[] g = gradient;
        if (valid != null) {
            g = gradient.clone();
            for (int i = 0; i < g.length; i++) {
                if (!validElement(i, studentShape)) {
                    g[i] = 0;
                }
            }
        }
        return Nd4j.create(g, studentShape.clone(), DataType.DOUBLE).castTo(dataType);
    }
}
