package io.kd4j.losses.kernels;

import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.logit.CrossEntropy;
import io.kd4j.losses.logit.Dkd;
import io.kd4j.losses.logit.GeneralizedJsd;
import io.kd4j.losses.logit.JensenShannon;
import io.kd4j.losses.logit.Ltkd;
import io.kd4j.losses.logit.ReverseKl;
import io.kd4j.losses.logit.SoftTargetKl;
import io.kd4j.losses.logit.SparseTopKKl;
import io.kd4j.losses.logit.SparseTopKTvd;
import io.kd4j.losses.logit.StandardizedLogits;
import io.kd4j.losses.logit.TotalVariation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A weighted sum of hot logit losses evaluated by fused kernels: for each row the data is read from
 * memory once (student row, teacher row, and the gradient row written once), every term's passes run
 * on that row while it sits in the core's cache, no buffer the size of the input is allocated, and
 * the rows are split across the cores (the common fork-join pool). Sums over a row are accumulated in
 * double. Values and gradients equal those of the catalogue classes ({@link SoftTargetKl},
 * {@link CrossEntropy}, {@link ReverseKl}, {@link TotalVariation}, {@link GeneralizedJsd},
 * {@link JensenShannon}, {@link Dkd}, {@link Ltkd}, {@link SparseTopKKl}, {@link SparseTopKTvd}) to
 * float tolerance; which kernel runs is said by {@link Kernels}.
 *
 * <p>The teacher is either dense logits ({@code rows × classes}) or a top-k teacher
 * ({@code rows × 2k}: k class indices, then their k log-probabilities), never both in one objective.
 * LTKD with rebalancing couples the rows (its weights are batch means of the teacher's group masses):
 * the teacher is then read twice, once for those means (two rows at a time: {@code RowKernel.groupMasses})
 * and once for the loss, and the result has no per-row values.
 */
public final class FusedObjective {
    /** Batches of at least this many values (rows x classes) are split across the cores. */
    static final long PARALLEL_THRESHOLD = 1 << 16;
    private final FusedTerm[] terms;
    private final String[] names;
    private final int[] slot;
    private final int slots;
    private final boolean needsTeacher;
    private final boolean sparseTeacher;
    private final boolean needsLabels;
    private final boolean batchCoupled;

    private FusedObjective(List<FusedTerm> terms, List<String> names) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("a fused objective needs at least one term");
        }
        this.terms = terms.toArray(new FusedTerm[0]);
        this.names = names.toArray(new String[0]);
        this.slot = new int[this.terms.length];
        int at = 0;
        for (int i = 0; i < this.terms.length; i++) {
            slot[i] = at;
            at += 1 + this.terms[i].parts();
        }
        this.slots = at;
        this.needsTeacher = terms.stream().anyMatch(FusedTerm::needsTeacher);
        this.sparseTeacher = terms.stream().anyMatch(FusedTerm::sparseTeacher);
        if (sparseTeacher && terms.stream().anyMatch(t -> t.needsTeacher() && !t.sparseTeacher())) {
            throw new IllegalArgumentException("a fused objective reads either dense teacher logits or a top-k teacher, "
                    + "not both: " + terms);
        }
        this.needsLabels = terms.stream().anyMatch(FusedTerm::needsLabels);
        this.batchCoupled = terms.stream().anyMatch(FusedTerm::batchCoupled);
    }

    /** A fused objective of the given terms, named after their kinds. */
    public static FusedObjective of(FusedTerm... terms) {
        List<String> names = new ArrayList<>();
        for (FusedTerm t : terms) {
            names.add(Objects.requireNonNull(t, "term must not be null").kind().name());
        }
        return new FusedObjective(Arrays.asList(terms), names);
    }

    /**
     * The fused form of an objective at a training progress (temperature schedules and DKD's warm-up
     * are read at {@code epoch}), or empty when one of its terms has no fused kernel (the caller then
     * uses the reference path). Term names are the objective's.
     */
    public static Optional<FusedObjective> compile(Objective objective, double epoch) {
        List<FusedTerm> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Objective.Term term : objective.terms()) {
            FusedTerm f = fuse(term.loss(), term.weight(), epoch);
            if (f == null) {
                return Optional.empty();
            }
            out.add(f);
            names.add(term.name());
        }
        return Optional.of(new FusedObjective(out, names));
    }

    private static FusedTerm fuse(LogitLoss loss, double w, double epoch) {
        if (loss instanceof StandardizedLogits z) {
            boolean fusable = z.inner() instanceof SoftTargetKl || z.inner() instanceof Dkd;
            return fusable ? fuse(z.inner(), w, epoch).standardized() : null;
        }
        if (loss instanceof CrossEntropy ce) {
            return FusedTerm.crossEntropy(w, ce.labelSmoothing());
        } else if (loss instanceof SoftTargetKl kd) {
            return FusedTerm.softTargetKl(w, kd.temperature().at(epoch));
        } else if (loss instanceof ReverseKl rkl) {
            return FusedTerm.reverseKl(w, rkl.temperature().at(epoch));
        } else if (loss instanceof TotalVariation tv) {
            return FusedTerm.totalVariation(w, tv.temperature().at(epoch));
        } else if (loss instanceof GeneralizedJsd jsd) {
            return FusedTerm.generalizedJsd(w, jsd.temperature().at(epoch), jsd.teacherMixWeight());
        } else if (loss instanceof JensenShannon js) {
            return FusedTerm.generalizedJsd(w, js.temperature().at(epoch), 0.5);
        } else if (loss instanceof Dkd dkd) {
            return FusedTerm.dkd(w, dkd.temperature().at(epoch), dkd.targetWeight(), dkd.nonTargetWeight(),
                    Math.max(0.0, dkd.warmupFactor(epoch)));
        } else if (loss instanceof Ltkd ltkd) {
            return FusedTerm.ltkd(w, ltkd.temperature().at(epoch), ltkd);
        } else if (loss instanceof SparseTopKKl kl) {
            return FusedTerm.sparseTopKKl(w, kl.temperature().at(epoch), kl.teacherTemperature());
        } else if (loss instanceof SparseTopKTvd tv) {
            return FusedTerm.sparseTopKTvd(w, tv.temperature().at(epoch), tv.teacherTemperature());
        }
        return null;
    }

    /** The terms, in order. */
    public List<FusedTerm> terms() {
        return List.of(terms);
    }

    /** Whether a term reads the teacher (dense logits, or top-k when {@link #sparseTeacher()}). */
    public boolean needsTeacher() {
        return needsTeacher;
    }

    /** Whether the teacher is a top-k teacher, {@code [k indices | k log-probabilities]} per row. */
    public boolean sparseTeacher() {
        return sparseTeacher;
    }

    /** Whether a term reads hard labels. */
    public boolean needsLabels() {
        return needsLabels;
    }

    /** Whether a term couples the rows (LTKD's rebalancing): the result then has no per-row values. */
    public boolean batchCoupled() {
        return batchCoupled;
    }

    /**
     * Evaluates the objective with hard labels given as class indices.
     *
     * @param student student logits, {@code rows × classes}
     * @param teacher teacher logits of the same shape, or a top-k teacher {@code rows × 2k} (indices, then
     *     log-probabilities), or {@code null} when no term reads it
     * @param labels class index per row, or {@code null} when no term reads labels
     * @param valid which rows count ({@code null}: all); the others get value 0 and a zero gradient
     * @param grad where to write {@code gradScale · d(row value)/d(student row)}, or {@code null} (value only)
     * @param gradScale the factor of the written gradient (1/validRows gives the gradient of the mean)
     */
    public FusedResult evaluate(DenseRows student, DenseRows teacher, int[] labels, boolean[] valid, DenseRows grad,
                                double gradScale) {
        if (needsLabels && labels == null) {
            throw new IllegalArgumentException("objective reads hard labels, but none were given");
        }
        if (labels != null && labels.length != student.rows()) {
            throw new IllegalArgumentException("labels must have one entry per row (" + student.rows() + "), got "
                    + labels.length);
        }
        return run(student, teacher, labels, null, valid, grad, gradScale);
    }

    /** As {@link #evaluate(DenseRows, DenseRows, int[], boolean[], DenseRows, double)}, labels one-hot. */
    public FusedResult evaluateOneHot(DenseRows student, DenseRows teacher, DenseRows oneHot, boolean[] valid,
                                      DenseRows grad, double gradScale) {
        if (needsLabels && oneHot == null) {
            throw new IllegalArgumentException("objective reads hard labels, but no one-hot block was given");
        }
        if (oneHot != null && (oneHot.rows() != student.rows() || oneHot.width() != student.width())) {
            throw new IllegalArgumentException("one-hot labels must be " + student.rows() + " x " + student.width()
                    + ", got " + oneHot.rows() + " x " + oneHot.width());
        }
        return run(student, teacher, null, oneHot, valid, grad, gradScale);
    }

    private int checkTeacher(DenseRows teacher, int n, int c) {
        if (!needsTeacher) {
            return 0;
        }
        if (teacher == null) {
            throw new IllegalArgumentException("objective reads " + (sparseTeacher ? "a top-k teacher" : "teacher_logits")
                    + ", but none was given");
        }
        if (!sparseTeacher) {
            if (teacher.rows() != n || teacher.width() != c) {
                throw new IllegalArgumentException("teacher_logits must be " + n + " x " + c
                        + " like student_logits, got " + teacher.rows() + " x " + teacher.width());
            }
            return 0;
        }
        int k = teacher.width() / 2;
        if (teacher.rows() != n || teacher.width() % 2 != 0 || k < 1 || k > c) {
            throw new IllegalArgumentException("a top-k teacher must be " + n + " x 2k (k indices, then k log-probabilities)"
                    + " with k in [1, classes=" + c + "], got " + teacher.rows() + " x " + teacher.width());
        }
        return k;
    }

    private FusedResult run(DenseRows student, DenseRows teacher, int[] labels, DenseRows oneHot, boolean[] valid,
                            DenseRows grad, double gradScale) {
        Objects.requireNonNull(student, "student must not be null");
        try {
            return runRows(student, teacher, labels, oneHot, valid, grad, gradScale);
        } finally {
            // the kernels read and write NIO views of the arrays' off-heap memory, which is freed once an
            // array is garbage-collected: keep every array reachable until the last row is done
            student.keepAlive();
            keepAlive(teacher);
            keepAlive(oneHot);
            keepAlive(grad);
        }
    }

    private static void keepAlive(DenseRows rows) {
        if (rows != null) {
            rows.keepAlive();
        }
    }

    private FusedResult runRows(DenseRows student, DenseRows teacher, int[] labels, DenseRows oneHot, boolean[] valid,
                                DenseRows grad, double gradScale) {
        int n = student.rows();
        int c = student.width();
        int topK = checkTeacher(teacher, n, c);
        if (grad != null && (grad.rows() != n || grad.width() != c)) {
            throw new IllegalArgumentException("gradient must be " + n + " x " + c + ", got " + grad.rows() + " x "
                    + grad.width());
        }
        if (valid != null && valid.length != n) {
            throw new IllegalArgumentException("valid must have one entry per row (" + n + "), got " + valid.length);
        }
        if (!Double.isFinite(gradScale)) {
            throw new IllegalArgumentException("gradScale must be finite, got " + gradScale);
        }
        for (FusedTerm t : terms) {
            if (t.parameters() instanceof FusedTerm.LtkdGroups groups) {
                groups.checkClasses(c);
            }
            if (n > 0) {
                Standardize.checkClasses(t, c);
            }
        }
        DenseRows tr = needsTeacher ? teacher : null;
        boolean float32 = student.isFloat();
        int chunk = Math.max(1, Math.min(64, n / (8 * Runtime.getRuntime().availableProcessors())));
        int chunks = (n + chunk - 1) / chunk;
        boolean parallel = n * (long) c >= PARALLEL_THRESHOLD;
        double[][] logRebalance = new double[terms.length][];
        Batch batch = new Batch(student, tr, grad, gradScale, terms, slot, logRebalance, topK);
        for (int i = 0; i < terms.length; i++) {
            if (terms[i].batchCoupled()) {
                logRebalance[i] = rebalancing(batch, terms[i], valid, float32, chunk, chunks, parallel);
            }
        }
        double[] rowValues = new double[n];
        double[][] termSums = new double[chunks][slots];
        int[] counts = new int[chunks];
        // small batches run on the calling thread: forking costs more than their work
        IntStream range = IntStream.range(0, chunks);
        (parallel ? range.parallel() : range).forEach(ci -> {
            RowKernel kernel = kernel(float32);
            double[] tv = new double[slots];
            double[] sums = termSums[ci];
            int end = Math.min(n, (ci + 1) * chunk);
            try {
                for (int r = ci * chunk; r < end; r++) {
                    if (valid != null && !valid[r]) {
                        if (grad != null) {
                            grad.clear(r);
                        }
                        continue;
                    }
                    int label = -1;
                    if (needsLabels) {
                        label = labels != null ? labels[r] : oneHot.hotIndex(r);
                        if (label < 0 || label >= c) {
                            throw new IllegalArgumentException("labels must be class indices in [0, " + c
                                    + "), got " + label + " at row " + r
                                    + (labels == null ? " (a row without a one-hot hard label)" : ""));
                        }
                    }
                    rowValues[r] = kernel.row(batch, r, label, tv);
                    for (int i = 0; i < slots; i++) {
                        sums[i] += tv[i];
                    }
                    counts[ci]++;
                }
            } finally {
                kernel.finish();
            }
        });
        int count = 0;
        double[] totals = new double[slots];
        for (int ci = 0; ci < chunks; ci++) {
            count += counts[ci];
            for (int i = 0; i < slots; i++) {
                totals[i] += termSums[ci][i];
            }
        }
        double sum = 0;
        for (double v : rowValues) {
            sum += v;
        }
        Map<String, Double> named = new LinkedHashMap<>();
        for (int i = 0; i < terms.length; i++) {
            named.put(names[i], count == 0 ? 0.0 : totals[slot[i]] / count);
            String[] parts = terms[i].partNames();
            for (int p = 0; p < parts.length; p++) {
                named.put(names[i] + "." + parts[p], count == 0 ? 0.0 : totals[slot[i] + 1 + p] / count);
            }
        }
        return new FusedResult(count == 0 ? 0.0 : sum / count, batchCoupled ? null : rowValues, count, named);
    }

    /**
     * LTKD's rebalancing: {@code log w_g = log(1/G) - log mean_i P_ig} over the valid rows, from the
     * teacher's group masses ({@code 0} for an empty group or an empty batch).
     */
    private static double[] rebalancing(Batch batch, FusedTerm term, boolean[] valid, boolean float32, int chunk,
                                        int chunks, boolean parallel) {
        int n = batch.student.rows();
        double[] logP = new double[3 * n];
        IntStream range = IntStream.range(0, chunks);
        (parallel ? range.parallel() : range).forEach(ci -> {
            RowKernel kernel = kernel(float32);
            double[] out = new double[6];
            int end = Math.min(n, (ci + 1) * chunk);
            // the valid rows two at a time (the vector kernel reads two teacher rows in one loop)
            int r = next(valid, ci * chunk, end);
            while (r < end) {
                int second = next(valid, r + 1, end);
                if (second < end) {
                    kernel.groupMasses(batch, r, second, term, out);
                    System.arraycopy(out, 3, logP, 3 * second, 3);
                } else {
                    kernel.groupMasses(batch, r, term, out);
                }
                System.arraycopy(out, 0, logP, 3 * r, 3);
                r = next(valid, second + 1, end);
            }
        });
        FusedTerm.LtkdGroups groups = term.ltkdGroups();
        double[] logW = new double[3];
        int count = 0;
        for (int r = 0; r < n; r++) {
            count += valid == null || valid[r] ? 1 : 0;
        }
        for (int g = 0; g < 3; g++) {
            if (groups.size(g) == 0 || count == 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < n; r++) {
                if (valid == null || valid[r]) {
                    max = Math.max(max, logP[3 * r + g]);
                }
            }
            double s = 0;
            for (int r = 0; r < n; r++) {
                if (valid == null || valid[r]) {
                    s += Math.exp(logP[3 * r + g] - max);
                }
            }
            logW[g] = -Math.log(groups.nonEmpty()) - (max + Math.log(s) - Math.log(count));
        }
        return logW;
    }

    /** The first valid row in {@code [from, end)}, or {@code end}. */
    private static int next(boolean[] valid, int from, int end) {
        int r = from;
        while (r < end && valid != null && !valid[r]) {
            r++;
        }
        return r;
    }

    private static final ThreadLocal<RowKernel> FLOAT_KERNEL = ThreadLocal.withInitial(() -> Kernels.newKernel(true));
    private static final ThreadLocal<RowKernel> DOUBLE_KERNEL = ThreadLocal.withInitial(() -> Kernels.newKernel(false));

    private static RowKernel kernel(boolean float32) {
        return float32 ? FLOAT_KERNEL.get() : DOUBLE_KERNEL.get();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Fused[");
        for (int i = 0; i < terms.length; i++) {
            b.append(i == 0 ? "" : " + ").append(terms[i].weight()).append('*').append(names[i]);
        }
        return b.append(']').toString();
    }
}
