package io.kd4j.losses.dl4j;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.catalogue.PerTeacherAverage;
import io.kd4j.losses.kernels.DenseRows;
import io.kd4j.losses.kernels.FusedObjective;
import io.kd4j.losses.kernels.FusedResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Plugs an {@link Objective} into DL4J as the {@link ILossFunction} of a student's output layer, so
 * that distillation trains through DL4J's own {@code fit} (listeners, early stopping,
 * ParallelWrapper and the Spark trainers work unchanged).
 *
 * <p>The layer's "labels" are the packed targets of a {@link TargetLayout}: hard one-hot labels, the
 * teacher's outputs and the epoch. The output layer's activation maps pre-outputs to the student
 * logits (use {@code IDENTITY}); the gradient is back-propagated through it.
 *
 * <p>DL4J's contract: {@link #computeScoreArray} is the per-example loss, {@link #computeGradient}
 * the per-example gradient (DL4J divides by the minibatch size). For losses that are a mean of row
 * losses this reproduces the objective exactly; for batch-coupled losses (DIST) each example's score
 * is the batch value and its gradient {@code n} times the gradient of the batch value, so DL4J's
 * minibatch mean again equals the objective. For sequences DL4J's RNN output layer sums over time
 * steps and divides by the number of sequences (its convention for every loss).
 *
 * <p><b>Fast path</b>: when every term has a fused kernel ({@link FusedObjective#compile}: the hot
 * divergences, DKD, LTKD and the top-k terms), the activation is the identity and the mask (if any)
 * holds only 0 and 1, the function reads the student's pre-outputs and the packed labels (dense or
 * top-k teacher block) in place and writes the gradient once, through {@code io.kd4j.losses.kernels}
 * (no double copies of the batch, rows split across cores, the JDK Vector API when the JVM has it);
 * otherwise it evaluates the objective on double rows.
 *
 * <p><b>Several teachers</b>: with {@code teacherWeights} of length {@code M > 1} the labels carry
 * {@code M} stacked dense teacher blocks ({@link TargetLayout#stacked}) and every term that reads the
 * teacher is evaluated once per block and averaged with the (normalised) weights, value and gradient
 * alike ({@link PerTeacherAverage}); the fused fast path is not used then.
 *
 * <p>The objective travels as its formula string, so the function survives DL4J's JSON round trip
 * (model save/load, ParallelWrapper, Spark) with all its parameters (and the teacher weights).
 */
public final class DistillationLossFunction implements ILossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("objective")
    private final String objective;
    @JsonProperty("classes")
    private final int classes;
    @JsonProperty("topK")
    private final int topK;
    /** Normalised weights of stacked teachers, or {@code null} for one teacher block. */
    @JsonProperty("teacherWeights")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private final double[] teacherWeights;

    private transient volatile Objective parsed;
    private transient volatile Cached cache;
    private transient volatile Map<String, Double> lastTerms = Map.of();
    private transient volatile boolean lastFused;
    /** The last gradient call's fused result, for the score call of the same step ({@link StepMemo}). */
    private transient volatile StepMemo<Fast> memo;
    private transient int kernelRuns;

    private record Cached(double[] student, double[] labels, double[] mask, RowsResult result, LogitRows rows) {
    }

    /** The logits of stacked teacher {@code m}: columns {@code classes + m·classes ..} of each packed row. */
    private double[] member(double[] packed, int n, int width, int m) {
        double[] t = new double[n * classes];
        for (int i = 0; i < n; i++) {
            System.arraycopy(packed, i * width + classes + m * classes, t, i * classes, classes);
        }
        return t;
    }

    /** One teacher block (dense, or top-k when {@code topK > 0}). */
    public DistillationLossFunction(String objective, int classes, int topK) {
        this(objective, classes, topK, null);
    }

    /**
     * @param teacherWeights {@code null} (or one weight) for one teacher block; else the weights of
     *                       {@code M} stacked dense teacher blocks, finite, &gt;= 0, not all 0
     *                       (normalised to sum to 1)
     */
    @JsonCreator
    public DistillationLossFunction(@JsonProperty("objective") String objective, @JsonProperty("classes") int classes,
                                    @JsonProperty("topK") int topK,
                                    @JsonProperty("teacherWeights") double[] teacherWeights) {
        Objects.requireNonNull(objective, "objective must not be null");
        double[] w = teacherWeights == null || teacherWeights.length == 1 ? null
                : PerTeacherAverage.normalise(teacherWeights);
        new TargetLayout(classes, topK, w == null ? 1 : w.length); // validates
        if (teacherWeights != null && teacherWeights.length == 1) {
            PerTeacherAverage.normalise(teacherWeights); // validates the single weight
        }
        this.parsed = Objective.parse(objective);
        this.objective = parsed.describe();
        this.classes = classes;
        this.topK = topK;
        this.teacherWeights = w;
        if (topK > 0 && parsed.requiredInputs().contains(InputKind.TEACHER_LOGITS)) {
            throw new IllegalArgumentException("objective '" + objective + "' needs dense teacher_logits, but the "
                    + "layout carries a top-k teacher (topK=" + topK + ")");
        }
    }

    /** An adapter for an objective and a target layout of one teacher block. */
    public static DistillationLossFunction of(Objective objective, TargetLayout layout) {
        if (layout.teachers() != 1) {
            throw new IllegalArgumentException("a layout of " + layout.teachers() + " stacked teachers needs their "
                    + "weights: use of(objective, layout, teacherWeights)");
        }
        return new DistillationLossFunction(objective.describe(), layout.classes(), layout.topK(), null);
    }

    /**
     * An adapter for an objective, a target layout and the weights of its teacher blocks
     * ({@code teacherWeights.length == layout.teachers()}; one weight for one block).
     */
    public static DistillationLossFunction of(Objective objective, TargetLayout layout, double[] teacherWeights) {
        Objects.requireNonNull(teacherWeights, "teacherWeights must not be null");
        if (teacherWeights.length != layout.teachers()) {
            throw new IllegalArgumentException("need one weight per stacked teacher (" + layout.teachers() + "), got "
                    + teacherWeights.length);
        }
        return new DistillationLossFunction(objective.describe(), layout.classes(), layout.topK(), teacherWeights);
    }

    /** The objective. */
    @JsonIgnore
    public Objective objective() {
        Objective o = parsed;
        if (o == null) {
            o = Objective.parse(objective);
            parsed = o;
        }
        return o;
    }

    /** The packed-label layout this function reads. */
    @JsonIgnore
    public TargetLayout layout() {
        return new TargetLayout(classes, topK, teacherWeights == null ? 1 : teacherWeights.length);
    }

    /** The normalised weights of the teacher blocks ({@code [1.0]} for one block). */
    @JsonIgnore
    public double[] teacherWeights() {
        return teacherWeights == null ? new double[] {1.0} : teacherWeights.clone();
    }

    /** The named term values of the most recent evaluation (for logging listeners). */
    @JsonIgnore
    public Map<String, Double> lastTerms() {
        Map<String, Double> t = lastTerms;
        return t == null ? Map.of() : t;
    }

    /** Whether the most recent evaluation took the fused fast path (else the reference path). */
    @JsonIgnore
    public boolean lastEvaluationFused() {
        return lastFused;
    }

    /**
     * How many times this instance has run the fused kernels (a diagnostic: a score call answered from
     * the step's gradient call, see {@link StepMemo}, does not count; not synchronised).
     */
    @JsonIgnore
    public int fusedEvaluations() {
        return kernelRuns;
    }

    /** Value (and gradient when asked) through the fused kernels, or {@code null} when they do not apply. */
    private Fast fast(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean wantGrad) {
        if (teacherWeights != null || !(activationFn instanceof ActivationIdentity) || !fusable(preOutput) || !fusable(labels)) {
            return null;
        }
        StepMemo<Fast> m = memo;
        Fast remembered = wantGrad || m == null ? null : m.recall(labels, preOutput, mask);
        if (remembered != null) {
            lastTerms = remembered.result().terms();
            lastFused = true;
            return remembered;
        }
        checkShapes(labels, preOutput);
        TargetLayout layout = layout();
        double epoch = labels.getDouble(0, layout.epochColumn());
        FusedObjective fused = FusedObjective.compile(objective(), epoch).orElse(null);
        if (fused == null || (fused.needsTeacher() && fused.sparseTeacher() != (topK > 0))) {
            return null;
        }
        int n = (int) preOutput.size(0);
        DenseRows packed = DenseRows.of(labels);
        PackedLabels.checkPacked(packed, n, layout);
        if (topK > 0) {
            checkTopKIndices(packed, n);
        }
        boolean[] valid = PackedLabels.validRows(mask, n);
        if (!PackedLabels.binary(mask)) {
            return null; // per-example sample weights in the mask: the reference path applies them
        }
        INDArray grad = wantGrad ? Nd4j.createUninitialized(preOutput.dataType(), n, classes) : null;
        FusedResult r = fused.evaluateOneHot(DenseRows.of(preOutput),
                fused.needsTeacher() ? DenseRows.columns(labels, classes, layout.teacherWidth()) : null,
                fused.needsLabels() ? DenseRows.columns(labels, 0, classes) : null, valid,
                grad == null ? null : DenseRows.of(grad), 1.0);
        kernelRuns++;
        lastTerms = r.terms();
        lastFused = true;
        if (wantGrad) {
            // the gradient is handed to DL4J, which may change it: the memo keeps only the value
            memo = StepMemo.remember(labels, preOutput, mask, new Fast(r, valid, null));
        }
        return new Fast(r, valid, grad);
    }

    /** The top-k indices of packed labels must be integers in [0, classes), as the reference path requires. */
    private void checkTopKIndices(DenseRows packed, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < topK; j++) {
                double index = packed.value(i, classes + j);
                if (index != Math.rint(index) || index < 0 || index >= classes) {
                    throw new IllegalArgumentException("packed teacher top-k indices must be integers in [0, "
                            + classes + "), got " + index + " at row " + i);
                }
            }
        }
    }

    private record Fast(FusedResult result, boolean[] valid, INDArray grad) {
        /** Per-example scores of a batch-coupled objective: the batch value for each valid row. */
        double[] scores(long n) {
            double[] out = new double[(int) n];
            for (int i = 0; i < out.length; i++) {
                out[i] = valid == null || valid[i] ? result.value() : 0.0;
            }
            return out;
        }
    }

    private static boolean fusable(INDArray a) {
        return a != null && a.rank() == 2 && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
    }

    private void checkShapes(INDArray labels, INDArray preOutput) {
        TargetLayout layout = layout();
        if (labels == null || preOutput == null) {
            throw new IllegalArgumentException("labels and preOutput must not be null");
        }
        if (labels.rank() != 2 || preOutput.rank() != 2) {
            throw new IllegalArgumentException("expected 2-d labels and preOutput, got " + Arrays.toString(labels.shape())
                    + " and " + Arrays.toString(preOutput.shape()));
        }
        int n = (int) preOutput.size(0);
        if (preOutput.size(1) != classes) {
            throw new IllegalArgumentException("student output has " + preOutput.size(1) + " units, but the objective "
                    + "was configured for classes=" + classes);
        }
        if (labels.size(0) != n || labels.size(1) != layout.width()) {
            throw new IllegalArgumentException("packed labels must be [" + n + ", " + layout.width() + "] (one-hot "
                    + classes + " | teacher " + layout.teacherWidth() + " | epoch 1), got "
                    + Arrays.toString(labels.shape()) + "; attach teacher outputs with kd-core's TeacherTargetIterator");
        }
    }

    private Cached evaluate(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        lastFused = false;
        checkShapes(labels, preOutput);
        TargetLayout layout = layout();
        int n = (int) preOutput.size(0);
        INDArray logitsArr = activationFn.getActivation(preOutput.dup(), true);
        double[] student = logitsArr.dup('c').data().asDouble();
        double[] packed = labels.dup('c').data().asDouble();
        double[] maskData = mask == null ? null : mask.dup('c').data().asDouble();
        Cached c = cache;
        if (c != null && Arrays.equals(c.student, student) && Arrays.equals(c.labels, packed)
                && Arrays.equals(c.mask, maskData)) {
            return c;
        }
        int w = layout.width();
        boolean[] valid = PackedLabels.validRows(mask, n);
        PackedLabels.checkPacked(DenseRows.wrap(packed, n, w), n, layout);
        Objective obj = objective();
        boolean needLabels = obj.requiredInputs().contains(InputKind.LABELS);
        int[] hard = needLabels ? new int[n] : null;
        double[] teacher = topK == 0 ? new double[n * classes] : null;
        int[] topIdx = topK > 0 ? new int[n * topK] : null;
        double[] topLp = topK > 0 ? new double[n * topK] : null;
        for (int i = 0; i < n; i++) {
            int base = i * w;
            if (needLabels) {
                int label = -1;
                for (int j = 0; j < classes; j++) {
                    if (packed[base + j] > 0.5) {
                        label = j;
                        break;
                    }
                }
                hard[i] = label;
            }
            if (topK == 0) {
                System.arraycopy(packed, base + classes, teacher, i * classes, classes);
            } else {
                for (int j = 0; j < topK; j++) {
                    double index = packed[base + classes + j];
                    if (index != Math.rint(index) || index < 0 || index >= classes) {
                        throw new IllegalArgumentException("packed teacher top-k indices must be integers in [0, "
                                + classes + "), got " + index + " at row " + i);
                    }
                    topIdx[i * topK + j] = (int) index;
                    topLp[i * topK + j] = packed[base + classes + topK + j];
                }
            }
        }
        double epoch = packed[layout.epochColumn()];
        LogitRows rows = LogitRows.ofMatrix(student, teacher, hard, topK, topIdx, topLp, n, classes, valid,
                DataType.DOUBLE, obj.describe());
        RowsResult r;
        if (teacherWeights == null) {
            r = obj.evaluate(rows, epoch);
        } else {
            List<LogitRows> members = new ArrayList<>(List.of(rows));
            for (int m = 1; m < teacherWeights.length; m++) {
                members.add(LogitRows.ofMatrix(student, member(packed, n, w, m), hard, 0, null, null, n, classes, valid,
                        DataType.DOUBLE, obj.describe() + " (teacher " + m + ")"));
            }
            r = PerTeacherAverage.evaluate(obj, members, teacherWeights, epoch);
        }
        lastTerms = r.terms();
        Cached fresh = new Cached(student, packed, maskData, r, rows);
        cache = fresh;
        return fresh;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Fast f = fast(labels, preOutput, activationFn, mask, false);
        if (f != null) {
            double[] rows = f.result().rowValues() != null ? f.result().rowValues() : f.scores(preOutput.size(0));
            return Nd4j.create(rows, new long[] {rows.length, 1}, DataType.DOUBLE).castTo(preOutput.dataType());
        }
        Cached c = evaluate(labels, preOutput, activationFn, mask);
        int n = (int) preOutput.size(0);
        double[] scores = new double[n];
        double[] rowValues = c.result.rowValues();
        for (int j = 0; j < c.rows.count(); j++) {
            int pos = c.rows.position(j);
            scores[pos] = (rowValues == null ? c.result.value() : rowValues[j]) * weight(c, pos);
        }
        return Nd4j.create(scores, new long[] {n, 1}, DataType.DOUBLE).castTo(preOutput.dataType());
    }

    /**
     * The mask value of example {@code pos} (1 without a mask): a labels mask holding per-example
     * weights scales that example's score and gradient, as DL4J's own losses apply masks.
     */
    private double weight(Cached c, int pos) {
        if (c.mask == null) {
            return 1.0;
        }
        int n = c.student.length / classes;
        return c.mask[pos * (c.mask.length / n)];
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        Fast f = fast(labels, preOutput, activationFn, mask, false);
        if (f != null) {
            // Σ of the per-example scores without building them as an ND4J array (DL4J asks for this every step)
            double sum = f.result().value() * f.result().validRows();
            return average ? sum / preOutput.size(0) : sum;
        }
        INDArray scores = computeScoreArray(labels, preOutput, activationFn, mask);
        double sum = scores.sumNumber().doubleValue();
        return average ? sum / scores.size(0) : sum;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Fast f = fast(labels, preOutput, activationFn, mask, true);
        if (f != null) {
            return f.grad();
        }
        Cached c = evaluate(labels, preOutput, activationFn, mask);
        int n = (int) preOutput.size(0);
        int count = c.rows.count();
        double[] meanGrad = c.result.gradient();
        double[] full = new double[n * classes];
        for (int j = 0; j < count; j++) {
            int pos = c.rows.position(j);
            double w = weight(c, pos) * count;
            for (int k = 0; k < classes; k++) {
                full[pos * classes + k] = meanGrad[j * classes + k] * w;
            }
        }
        INDArray dLdOut = Nd4j.create(full, new long[] {n, classes}, DataType.DOUBLE).castTo(preOutput.dataType());
        return activationFn.backprop(preOutput.dup(), dLdOut).getFirst();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        Fast f = fast(labels, preOutput, activationFn, mask, true);
        if (f != null) {
            double sum = f.result().value() * f.result().validRows();
            return new Pair<>(average ? sum / preOutput.size(0) : sum, f.grad());
        }
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return teacherWeights == null ? "Distillation(" + objective + ")"
                : "Distillation(" + objective + "; per-teacher average, weights " + Arrays.toString(teacherWeights) + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistillationLossFunction d && d.objective.equals(objective) && d.classes == classes
                && d.topK == topK && Arrays.equals(d.teacherWeights, teacherWeights);
    }

    @Override
    public int hashCode() {
        return Objects.hash(objective, classes, topK, Arrays.hashCode(teacherWeights));
    }
}
