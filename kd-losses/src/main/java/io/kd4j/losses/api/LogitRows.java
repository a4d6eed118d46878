package io.kd4j.losses.api;

import java.util.Arrays;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The valid rows of a loss input, flattened to row-major double arrays: one row per example
 * ({@code [batch, classes]}) or per valid time step ({@code [batch, classes, time]} with a mask).
 * Losses compute on these rows in double precision; {@link #scatter} puts a row gradient back into
 * the student's shape and data type, with zeros at masked positions.
 *
 * <p>All validation of shapes, label ranges, masks and non-finite values happens here, once, with
 * messages that name the input, the rule and the offending value.
 */
public final class LogitRows {
    private final int count;
    private final int classes;
    private final double[] student;
    private final double[] teacher;
    private final int[] labels;
    private final int topK;
    private final int[] topKIndices;
    private final double[] topKLogProbs;
    /** For each valid row, its index in the flattened [batch*time] order (b*time + t). */
    private final int[] positions;
    private final long[] studentShape;
    private final DataType dataType;

    private LogitRows(int count, int classes, double[] student, double[] teacher, int[] labels, int topK,
                      int[] topKIndices, double[] topKLogProbs, int[] positions, long[] studentShape, DataType dataType) {
        this.count = count;
        this.classes = classes;
        this.student = student;
        this.teacher = teacher;
        this.labels = labels;
        this.topK = topK;
        this.topKIndices = topKIndices;
        this.topKLogProbs = topKLogProbs;
        this.positions = positions;
        this.studentShape = studentShape;
        this.dataType = dataType;
    }

    /**
     * Builds, validates and flattens the rows of {@code input}.
     *
     * @param lossName used in error messages
     * @param required the inputs the loss reads; a missing one is an error naming it
     */
    public static LogitRows from(LossInput input, Set<InputKind> required, String lossName) {
        INDArray s = input.studentLogits();
        int rank = s.rank();
        if (rank != 2 && rank != 3) {
            throw new IllegalArgumentException(lossName + ": student_logits must have rank 2 [batch, classes] or 3 "
                    + "[batch, classes, time], got shape " + Arrays.toString(s.shape()));
        }
        if (!s.dataType().isFPType()) {
            throw new IllegalArgumentException(lossName + ": student_logits must be floating point, got " + s.dataType());
        }
        long batch = s.size(0);
        long classesL = s.size(1);
        long time = rank == 3 ? s.size(2) : 1;
        if (batch < 1 || classesL < 1 || time < 1) {
            throw new IllegalArgumentException(lossName + ": student_logits must be non-empty, got shape "
                    + Arrays.toString(s.shape()));
        }
        if (batch * time * classesL > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(lossName + ": student_logits has " + batch * time * classesL
                    + " elements; at most " + Integer.MAX_VALUE + " per call are supported");
        }
        int classes = (int) classesL;
        int total = (int) (batch * time);

        boolean[] valid = validRows(input.mask(), rank, batch, time, lossName);
        int count = 0;
        for (boolean v : valid) {
            count += v ? 1 : 0;
        }
        int[] positions = new int[count];
        for (int i = 0, j = 0; i < total; i++) {
            if (valid[i]) {
                positions[j++] = i;
            }
        }

        double[] studentRows = rows(s, positions, classes);
        checkFinite(studentRows, classes, positions, "student_logits", lossName);

        double[] teacherRows = null;
        if (required.contains(InputKind.TEACHER_LOGITS)) {
            INDArray t = input.teacherLogits();
            if (t == null) {
                throw new IllegalArgumentException(lossName + ": requires teacher_logits, but none were given");
            }
            if (!Arrays.equals(t.shape(), s.shape())) {
                throw new IllegalArgumentException(lossName + ": teacher_logits shape " + Arrays.toString(t.shape())
                        + " must equal student_logits shape " + Arrays.toString(s.shape()));
            }
            teacherRows = rows(t, positions, classes);
            checkFinite(teacherRows, classes, positions, "teacher_logits", lossName);
        }

        int[] labelRows = null;
        if (required.contains(InputKind.LABELS)) {
            labelRows = labels(input.labels(), rank, batch, time, classes, positions, lossName);
        }

        int k = 0;
        int[] topIdx = null;
        double[] topLp = null;
        if (required.contains(InputKind.TEACHER_TOP_K)) {
            TopKTeacher top = input.teacherTopK();
            if (top == null) {
                throw new IllegalArgumentException(lossName + ": requires a top-k teacher (teacher_topk_indices, "
                        + "teacher_topk_logprobs), but none was given");
            }
            long[] expected = rank == 3 ? new long[] {batch, top.k(), time} : new long[] {batch, top.k()};
            if (!Arrays.equals(top.indices().shape(), expected)) {
                throw new IllegalArgumentException(lossName + ": teacher_topk_indices shape "
                        + Arrays.toString(top.indices().shape()) + " must be " + Arrays.toString(expected));
            }
            k = top.k();
            if (k < 1 || k > classes) {
                throw new IllegalArgumentException(lossName + ": top-k size must be in [1, classes=" + classes
                        + "], got " + k);
            }
            double[] idx = rows(top.indices(), positions, k);
            topLp = rows(top.logProbs(), positions, k);
            topIdx = new int[idx.length];
            for (int r = 0; r < count; r++) {
                double mass = 0;
                for (int j = 0; j < k; j++) {
                    double v = idx[r * k + j];
                    if (v != Math.rint(v) || v < 0 || v >= classes) {
                        throw new IllegalArgumentException(lossName + ": teacher_topk_indices must be integers in [0, "
                                + classes + "), got " + v + " at row " + positions[r]);
                    }
                    topIdx[r * k + j] = (int) v;
                    double lp = topLp[r * k + j];
                    if (Double.isNaN(lp) || lp > 1e-6) {
                        throw new IllegalArgumentException(lossName + ": teacher_topk_logprobs must be log-probabilities "
                                + "(<= 0, not NaN), got " + lp + " at row " + positions[r]);
                    }
                    mass += Math.exp(lp);
                }
                if (mass > 1 + 1e-4) {
                    throw new IllegalArgumentException(lossName + ": teacher top-k probabilities must sum to <= 1, got "
                            + mass + " at row " + positions[r]);
                }
                for (int a = 0; a < k; a++) {
                    for (int b = a + 1; b < k; b++) {
                        if (topIdx[r * k + a] == topIdx[r * k + b]) {
                            throw new IllegalArgumentException(lossName + ": teacher_topk_indices must be distinct "
                                    + "within a row, got " + topIdx[r * k + a] + " twice at row " + positions[r]);
                        }
                    }
                }
            }
        }
        return new LogitRows(count, classes, studentRows, teacherRows, labelRows, k, topIdx, topLp, positions,
                s.shape().clone(), s.dataType());
    }

    /**
     * Rows built directly from 2-d row-major arrays (used by the DL4J adapter, which unpacks its label
     * array itself). Every row is valid unless {@code valid[i]} is false; labels of valid rows must be
     * in range when given (-1 marks "no label" and is rejected).
     *
     * @param topK 0, or the k of {@code topKIndices}/{@code topKLogProbs} ({@code rowCount * k} each)
     */
    public static LogitRows ofMatrix(double[] student, double[] teacher, int[] labels, int topK, int[] topKIndices,
                                     double[] topKLogProbs, int rowCount, int classes, boolean[] valid,
                                     DataType dataType, String lossName) {
        int count = 0;
        for (int i = 0; i < rowCount; i++) {
            count += valid == null || valid[i] ? 1 : 0;
        }
        int[] positions = new int[count];
        for (int i = 0, j = 0; i < rowCount; i++) {
            if (valid == null || valid[i]) {
                positions[j++] = i;
            }
        }
        boolean all = count == rowCount;
        double[] s = all ? student : gather(student, positions, classes);
        double[] t = teacher == null ? null : all ? teacher : gather(teacher, positions, classes);
        int[] l = null;
        if (labels != null) {
            l = new int[count];
            for (int j = 0; j < count; j++) {
                l[j] = labels[positions[j]];
                if (l[j] < 0 || l[j] >= classes) {
                    throw new IllegalArgumentException(lossName + ": labels must be class indices in [0, " + classes
                            + "), got " + l[j] + " at row " + positions[j] + " (a row without a one-hot hard label)");
                }
            }
        }
        int[] ti = null;
        double[] tl = null;
        if (topK > 0) {
            ti = all ? topKIndices : gatherInts(topKIndices, positions, topK);
            tl = all ? topKLogProbs : gather(topKLogProbs, positions, topK);
        }
        checkFinite(s, classes, positions, "student_logits", lossName);
        if (t != null) {
            checkFinite(t, classes, positions, "teacher_logits", lossName);
        }
        return new LogitRows(count, classes, s, t, l, topK, ti, tl, positions, new long[] {rowCount, classes},
                dataType);
    }

    private static int[] gatherInts(int[] full, int[] positions, int width) {
        int[] out = new int[positions.length * width];
        for (int j = 0; j < positions.length; j++) {
            System.arraycopy(full, positions[j] * width, out, j * width, width);
        }
        return out;
    }

    private static double[] gather(double[] full, int[] positions, int width) {
        double[] out = new double[positions.length * width];
        for (int j = 0; j < positions.length; j++) {
            System.arraycopy(full, positions[j] * width, out, j * width, width);
        }
        return out;
    }

    private static boolean[] validRows(INDArray mask, int rank, long batch, long time, String lossName) {
        boolean[] valid = new boolean[(int) (batch * time)];
        if (mask == null) {
            Arrays.fill(valid, true);
            return valid;
        }
        long[] shape = mask.shape();
        boolean ok = rank == 2
                ? (shape.length == 1 && shape[0] == batch) || (shape.length == 2 && shape[0] == batch && shape[1] == 1)
                : shape.length == 2 && shape[0] == batch && shape[1] == time;
        if (!ok) {
            throw new IllegalArgumentException(lossName + ": mask shape " + Arrays.toString(shape) + " must be "
                    + (rank == 2 ? "[" + batch + "] or [" + batch + ", 1]" : "[" + batch + ", " + time + "]"));
        }
        double[] m = mask.dup('c').data().asDouble();
        for (int i = 0; i < m.length; i++) {
            if (m[i] != 0 && m[i] != 1) {
                throw new IllegalArgumentException(lossName + ": mask values must be 0 or 1, got " + m[i]
                        + " at position " + i);
            }
            valid[i] = m[i] == 1;
        }
        return valid;
    }

    /** Rows of {@code a} ([batch, width] or [batch, width, time]) at the given flattened positions. */
    private static double[] rows(INDArray a, int[] positions, int width) {
        INDArray rowMajor = a.rank() == 3 ? a.permute(0, 2, 1).dup('c') : a.dup('c');
        double[] all = rowMajor.data().asDouble();
        if (positions.length * (long) width == all.length) {
            return all;
        }
        return gather(all, positions, width);
    }

    private static int[] labels(INDArray labels, int rank, long batch, long time, int classes, int[] positions,
                                String lossName) {
        if (labels == null) {
            throw new IllegalArgumentException(lossName + ": requires labels (class indices), but none were given");
        }
        long[] shape = labels.shape();
        boolean ok = rank == 2
                ? (shape.length == 1 && shape[0] == batch) || (shape.length == 2 && shape[0] == batch && shape[1] == 1)
                : shape.length == 2 && shape[0] == batch && shape[1] == time;
        if (!ok) {
            throw new IllegalArgumentException(lossName + ": labels shape " + Arrays.toString(shape) + " must be "
                    + (rank == 2 ? "[" + batch + "]" : "[" + batch + ", " + time + "]") + " (class indices)");
        }
        double[] all = labels.dup('c').data().asDouble();
        int[] out = new int[positions.length];
        for (int j = 0; j < positions.length; j++) {
            double v = all[positions[j]];
            if (v != Math.rint(v) || v < 0 || v >= classes) {
                throw new IllegalArgumentException(lossName + ": labels must be class indices in [0, " + classes
                        + "), got " + v + " at position " + positions[j]);
            }
            out[j] = (int) v;
        }
        return out;
    }

    private static void checkFinite(double[] rows, int width, int[] positions, String name, String lossName) {
        for (int i = 0; i < rows.length; i++) {
            if (!Double.isFinite(rows[i])) {
                throw new IllegalArgumentException(lossName + ": " + name + " must be finite, got " + rows[i]
                        + " at row " + positions[i / width] + ", class " + (i % width));
            }
        }
    }

    /** Puts a row gradient ({@code count * classes}) back into the student's shape and data type. */
    public INDArray scatter(double[] rowGradient) {
        int total = studentShape.length == 3 ? (int) (studentShape[0] * studentShape[2]) : (int) studentShape[0];
        double[] full;
        if (count == total) {
            full = rowGradient;
        } else {
            full = new double[total * classes];
            for (int j = 0; j < count; j++) {
                System.arraycopy(rowGradient, j * classes, full, positions[j] * classes, classes);
            }
        }
        if (studentShape.length == 3) {
            INDArray btc = Nd4j.create(full, new long[] {studentShape[0], studentShape[2], classes}, DataType.DOUBLE);
            return btc.permute(0, 2, 1).castTo(dataType).dup('c');
        }
        return Nd4j.create(full, new long[] {studentShape[0], classes}, DataType.DOUBLE).castTo(dataType);
    }

    /**
     * The same rows with replaced student and teacher logits (e.g. standardized), sharing labels,
     * top-k teacher and positions.
     */
    public LogitRows withLogits(double[] newStudent, double[] newTeacher) {
        if (newStudent.length != student.length || (teacher != null && newTeacher.length != teacher.length)) {
            throw new IllegalArgumentException("replacement logits must keep the row shape");
        }
        return new LogitRows(count, classes, newStudent, newTeacher, labels, topK, topKIndices, topKLogProbs,
                positions, studentShape, dataType);
    }

    /** Number of valid rows. */
    public int count() {
        return count;
    }

    public int classes() {
        return classes;
    }

    /** Student logits of the valid rows, row-major {@code count * classes}. Do not modify. */
    public double[] student() {
        return student;
    }

    /** Teacher logits of the valid rows, or {@code null} when the loss does not read them. */
    public double[] teacher() {
        return teacher;
    }

    /** Class index per valid row, or {@code null} when the loss does not read labels. */
    public int[] labels() {
        return labels;
    }

    /** k of the sparse teacher, 0 when absent. */
    public int topK() {
        return topK;
    }

    /** Top-k teacher class indices per valid row ({@code count * k}), or {@code null}. */
    public int[] topKIndices() {
        return topKIndices;
    }

    /** Top-k teacher log-probabilities per valid row ({@code count * k}), or {@code null}. */
    public double[] topKLogProbs() {
        return topKLogProbs;
    }

    /** Flattened position (b * time + t) of valid row {@code j} in the input. */
    public int position(int j) {
        return positions[j];
    }

    /** Total rows in the input, valid or not (batch, or batch * time). */
    public int totalRows() {
        return studentShape.length == 3 ? (int) (studentShape[0] * studentShape[2]) : (int) studentShape[0];
    }
}
