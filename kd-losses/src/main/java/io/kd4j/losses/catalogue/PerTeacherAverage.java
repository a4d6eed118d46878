package io.kd4j.losses.catalogue;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Averaging per-teacher losses over an ensemble of {@code M} teachers, for any objective of catalogue
 * logit losses:
 * <pre>
 *   L = Σ_terms w_t · ( reads the teacher ?  Σ_m a_m · L_t(s, t_m)  :  L_t(s) )
 *   ∂L/∂s = the same weighted sums of the terms' analytic gradients
 * </pre>
 * with the teacher weights {@code a_m} (normalised to sum to 1 by the caller). A term reads the teacher
 * when it requires {@link InputKind#TEACHER_LOGITS} (KD, DKD, DIST, reverse KL, ...); such a term is
 * evaluated once per member, on rows that differ only in their teacher logits; a term that does not
 * (CrossEntropy, LogitAdjustment) is evaluated once. Members of weight 0 are skipped.
 *
 * <p>This is not probability averaging: for a loss that is not linear in the teacher's distribution
 * (DKD, DIST, reverse KL, ...) {@code Σ_m a_m L(s, t_m) ≠ L(s, mix(t_m))}. For the forward KL the two
 * have equal gradients (see docs/strategies.md).
 *
 * <p>Named terms: each term's (unweighted) value, teacher-averaged where it reads the teacher, and its
 * sub-terms averaged the same way, as {@link Objective#evaluate} names them. Per-row values are the
 * weighted sums when every term decomposes over rows, else {@code null}.
 */
public final class PerTeacherAverage {

    private PerTeacherAverage() {
    }

    /**
     * Evaluates {@code objective} against each member's rows.
     *
     * @param perTeacher one {@link LogitRows} per member: the same student, labels, and valid rows,
     *                   member {@code m}'s teacher logits
     * @param weights the members' weights {@code a_m}, finite, &gt;= 0 (used as given)
     * @param epoch training progress, 1-based
     */
    public static RowsResult evaluate(Objective objective, List<LogitRows> perTeacher, double[] weights, double epoch) {
        Objects.requireNonNull(objective, "objective must not be null");
        Objects.requireNonNull(perTeacher, "perTeacher must not be null");
        Objects.requireNonNull(weights, "weights must not be null");
        if (perTeacher.isEmpty() || perTeacher.size() != weights.length) {
            throw new IllegalArgumentException("need one row set per teacher weight, got " + perTeacher.size()
                    + " row sets and " + weights.length + " weights");
        }
        LogitRows first = perTeacher.get(0);
        for (int m = 1; m < perTeacher.size(); m++) {
            LogitRows r = perTeacher.get(m);
            if (r.count() != first.count() || r.classes() != first.classes()) {
                throw new IllegalArgumentException("teacher " + m + "'s rows are " + r.count() + " x " + r.classes()
                        + " but teacher 0's are " + first.count() + " x " + first.classes());
            }
        }
        int width = first.count() * first.classes();
        double[] grad = new double[width];
        double[] rowValues = new double[first.count()];
        boolean rowwise = true;
        double value = 0;
        Map<String, Double> named = new LinkedHashMap<>();
        for (Objective.Term t : objective.terms()) {
            TermSum sum = new TermSum(width, first.count());
            if (t.loss().requiredInputs().contains(InputKind.TEACHER_LOGITS)) {
                for (int m = 0; m < weights.length; m++) {
                    if (weights[m] != 0) {
                        sum.add(weights[m], t.loss().evaluate(perTeacher.get(m), epoch));
                    }
                }
            } else {
                sum.add(1.0, t.loss().evaluate(first, epoch));
            }
            value += t.weight() * sum.value;
            named.put(t.name(), sum.value);
            sum.terms.forEach((k, v) -> named.put(t.name() + "." + k, v));
            for (int i = 0; i < width; i++) {
                grad[i] += t.weight() * sum.gradient[i];
            }
            if (sum.rowValues == null) {
                rowwise = false;
            } else if (rowwise) {
                for (int i = 0; i < rowValues.length; i++) {
                    rowValues[i] += t.weight() * sum.rowValues[i];
                }
            }
        }
        return new RowsResult(value, grad, rowwise ? rowValues : null, named);
    }

    /** A weighted sum of one term's results over the members. */
    private static final class TermSum {
        private double value;
        private final double[] gradient;
        private double[] rowValues;
        private boolean rowwise = true;
        private final Map<String, Double> terms = new LinkedHashMap<>();

        TermSum(int width, int rows) {
            this.gradient = new double[width];
            this.rowValues = new double[rows];
        }

        void add(double a, RowsResult r) {
            value += a * r.value();
            double[] g = r.gradient();
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] += a * g[i];
            }
            if (r.rowValues() == null || !rowwise) {
                rowwise = false;
                rowValues = null;
            } else {
                for (int i = 0; i < rowValues.length; i++) {
                    rowValues[i] += a * r.rowValues()[i];
                }
            }
            r.terms().forEach((k, v) -> terms.merge(k, a * v, Double::sum));
        }
    }

    /** {@code weights} normalised to sum to 1, after checking each is finite and &gt;= 0 and not all are 0. */
    public static double[] normalise(double[] weights) {
        Objects.requireNonNull(weights, "teacher weights must not be null");
        if (weights.length == 0) {
            throw new IllegalArgumentException("teacher weights must not be empty");
        }
        double sum = 0;
        for (int m = 0; m < weights.length; m++) {
            if (!(weights[m] >= 0) || Double.isInfinite(weights[m])) {
                throw new IllegalArgumentException("teacher weight " + m + " must be finite and >= 0, got " + weights[m]);
            }
            sum += weights[m];
        }
        if (!(sum > 0)) {
            throw new IllegalArgumentException("teacher weights must not all be 0, got " + Arrays.toString(weights));
        }
        double[] out = new double[weights.length];
        for (int m = 0; m < weights.length; m++) {
            out[m] = weights[m] / sum;
        }
        return out;
    }
}
