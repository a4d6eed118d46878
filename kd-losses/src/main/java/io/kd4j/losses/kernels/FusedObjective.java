package io.kd4j.losses.kernels;

import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.logit.CrossEntropy;
import io.kd4j.losses.logit.GeneralizedJsd;
import io.kd4j.losses.logit.JensenShannon;
import io.kd4j.losses.logit.ReverseKl;
import io.kd4j.losses.logit.SoftTargetKl;
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
 * {@link JensenShannon}) to float tolerance; which kernel runs is said by {@link Kernels}.
 */
public final class FusedObjective {
    /** Batches of at least this many values (rows x classes) are split across the cores. */
    static final long PARALLEL_THRESHOLD = 1 << 16;
    private final FusedTerm[] terms;
    private final String[] names;
    private final boolean needsTeacher;
    private final boolean needsLabels;

    private FusedObjective(List<FusedTerm> terms, List<String> names) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("a fused objective needs at least one term");
        }
        this.terms = terms.toArray(new FusedTerm[0]);
        this.names = names.toArray(new String[0]);
        this.needsTeacher = terms.stream().anyMatch(FusedTerm::needsTeacher);
        this.needsLabels = terms.stream().anyMatch(t -> t.kind() == FusedTerm.Kind.CROSS_ENTROPY);
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
     * The fused form of an objective at a training progress (temperature schedules are read at
     * {@code epoch}), or empty when one of its terms has no fused kernel (the caller then uses the
     * reference path). Term names are the objective's.
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
        }
        return null;
    }

    /** The terms, in order. */
    public List<FusedTerm> terms() {
        return List.of(terms);
    }

    /** Whether a term reads the teacher's logits. */
    public boolean needsTeacher() {
        return needsTeacher;
    }

    /** Whether a term reads hard labels. */
    public boolean needsLabels() {
        return needsLabels;
    }

    /**
     * Evaluates the objective with hard labels given as class indices.
     *
     * @param student student logits, {@code rows × classes}
     * @param teacher teacher logits of the same shape, or {@code null} when no term reads them
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

    private FusedResult run(DenseRows student, DenseRows teacher, int[] labels, DenseRows oneHot, boolean[] valid,
                            DenseRows grad, double gradScale) {
        Objects.requireNonNull(student, "student must not be null");
        int n = student.rows();
        int c = student.width();
        if (needsTeacher && teacher == null) {
            throw new IllegalArgumentException("objective reads teacher_logits, but none were given");
        }
        if (needsTeacher && (teacher.rows() != n || teacher.width() != c)) {
            throw new IllegalArgumentException("teacher_logits must be " + n + " x " + c + " like student_logits, got "
                    + teacher.rows() + " x " + teacher.width());
        }
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
        DenseRows t = needsTeacher ? teacher : null;
        boolean float32 = student.isFloat();
        double[] rowValues = new double[n];
        int k = terms.length;
        int chunk = Math.max(1, Math.min(64, n / (8 * Runtime.getRuntime().availableProcessors())));
        int chunks = (n + chunk - 1) / chunk;
        double[][] termSums = new double[chunks][k];
        int[] counts = new int[chunks];
        // small batches run on the calling thread: forking costs more than their work
        IntStream range = IntStream.range(0, chunks);
        (n * (long) c >= PARALLEL_THRESHOLD ? range.parallel() : range).forEach(ci -> {
            RowKernel kernel = kernel(float32);
            double[] tv = new double[k];
            double[] sums = termSums[ci];
            int end = Math.min(n, (ci + 1) * chunk);
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
                        throw new IllegalArgumentException("labels must be class indices in [0, " + c + "), got "
                                + label + " at row " + r + (labels == null ? " (a row without a one-hot hard label)" : ""));
                    }
                }
                rowValues[r] = kernel.row(student, t, label, r, terms, grad, gradScale, tv);
                for (int i = 0; i < k; i++) {
                    sums[i] += tv[i];
                }
                counts[ci]++;
            }
        });
        int count = 0;
        double[] totals = new double[k];
        for (int ci = 0; ci < chunks; ci++) {
            count += counts[ci];
            for (int i = 0; i < k; i++) {
                totals[i] += termSums[ci][i];
            }
        }
        double sum = 0;
        for (double v : rowValues) {
            sum += v;
        }
        Map<String, Double> named = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) {
            named.put(names[i], count == 0 ? 0.0 : totals[i] / count);
        }
        return new FusedResult(count == 0 ? 0.0 : sum / count, rowValues, count, named);
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
