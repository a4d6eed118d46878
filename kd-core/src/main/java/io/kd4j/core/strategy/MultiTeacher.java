package io.kd4j.core.strategy;

import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Several frozen teachers seen as one {@link Teacher}: for each batch every member runs (outside the
 * student's fit, like any teacher) and their logits are aggregated into one teacher block, so any
 * catalogue loss distils the ensemble (Hinton et al. 2015 distil an ensemble this way).
 *
 * <p>Aggregations, with member logits {@code t_m}, fixed member weights {@code a_m} (normalised to sum
 * to 1; equal by default) and the aggregation temperature {@code T}:
 * <ul>
 *   <li>{@link Aggregation#AVERAGE_PROBABILITIES}: {@code pbar = sum_m a_m softmax(t_m / T)}; the
 *       returned logits are {@code T log pbar}, so that {@code softmax(logits / T) = pbar} exactly.
 *       Set {@code T} to the KD loss's temperature. For {@code SoftTargetKl} this also equals
 *       <em>averaging the per-teacher losses</em> {@code sum_m a_m KL(p_m || q)} up to a constant
 *       independent of the student: the gradients are identical (tested).</li>
 *   <li>{@link Aggregation#AVERAGE_LOGITS}: {@code sum_m a_m t_m} (no temperature involved).</li>
 *   <li>{@link Aggregation#CONFIDENCE_WEIGHTED}: per example {@code i}, member weights
 *       {@code w_mi = a_m exp(-H_mi) / sum_k a_k exp(-H_ki)} with {@code H_mi} the entropy (nats) of
 *       {@code softmax(t_mi / T)}: a confident (low-entropy) member counts more on that example; then
 *       probabilities are averaged with {@code w_mi} as above.</li>
 * </ul>
 * Sequences ({@code [batch, classes, time]}) aggregate per position. Members must produce logits of
 * the same shape (an error names the member and both shapes). Per-teacher losses other than the
 * KL above would need one teacher block per member in each batch; the packed-label layout carries one,
 * so that mode is not offered (see docs/strategies.md).
 */
public final class MultiTeacher implements Teacher {

    /** How member outputs are combined. */
    public enum Aggregation { AVERAGE_PROBABILITIES, AVERAGE_LOGITS, CONFIDENCE_WEIGHTED }

    private final List<Teacher> members;
    private final double[] weights;
    private final Aggregation aggregation;
    private final double temperature;
    private final String fingerprint;

    private MultiTeacher(Builder b) {
        if (b.members.isEmpty()) {
            throw new IllegalArgumentException("a MultiTeacher needs at least one member teacher");
        }
        if (!(b.temperature > 0) || Double.isInfinite(b.temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite, got " + b.temperature);
        }
        this.members = List.copyOf(b.members);
        double sum = 0;
        for (double w : b.weights) {
            sum += w;
        }
        if (!(sum > 0)) {
            throw new IllegalArgumentException("member weights must not all be 0, got " + b.weights);
        }
        this.weights = new double[b.weights.size()];
        for (int m = 0; m < weights.length; m++) {
            weights[m] = b.weights.get(m) / sum;
        }
        this.aggregation = Objects.requireNonNull(b.aggregation, "aggregation must not be null");
        this.temperature = b.temperature;
        StringBuilder id = new StringBuilder(aggregation + "|" + temperature + "|" + Arrays.toString(weights));
        for (Teacher t : members) {
            id.append('|').append(t.fingerprint());
        }
        this.fingerprint = Fingerprints.of(id.toString(), null);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The member teachers, in order. */
    public List<Teacher> members() {
        return members;
    }

    /** The normalised member weights {@code a_m}. */
    public double[] weights() {
        return weights.clone();
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        INDArray first = null;
        double[][] rows = new double[members.size()][];
        int classes = 0;
        for (int m = 0; m < members.size(); m++) {
            INDArray out = members.get(m).logits(batch);
            if (first == null) {
                first = out;
                classes = (int) out.size(1);
            } else if (!Arrays.equals(first.shape(), out.shape())) {
                throw new IllegalArgumentException("member teacher " + m + " produced logits of shape "
                        + Arrays.toString(out.shape()) + " but member 0 produced " + Arrays.toString(first.shape()));
            }
            rows[m] = asRows(out);
        }
        double[] result = aggregate(rows, classes);
        return fromRows(result, first);
    }

    /** Aggregates the members' row-major {@code [rows, classes]} logits. */
    double[] aggregate(double[][] rows, int classes) {
        int n = rows[0].length / classes;
        double[] out = new double[rows[0].length];
        double[] p = new double[classes];
        double[] w = new double[rows.length];
        for (int i = 0; i < n; i++) {
            int off = i * classes;
            if (aggregation == Aggregation.AVERAGE_LOGITS) {
                for (int m = 0; m < rows.length; m++) {
                    for (int j = 0; j < classes; j++) {
                        out[off + j] += weights[m] * rows[m][off + j];
                    }
                }
                continue;
            }
            memberWeights(rows, off, classes, w, p);
            // T log sum_m w_m p_mj, as a log-sum-exp over members of log w_m + log p_mj (finite for finite logits)
            double[][] logP = new double[rows.length][classes];
            for (int m = 0; m < rows.length; m++) {
                logSoftmax(rows[m], off, classes, logP[m]);
            }
            for (int j = 0; j < classes; j++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int m = 0; m < rows.length; m++) {
                    if (w[m] > 0) {
                        max = Math.max(max, Math.log(w[m]) + logP[m][j]);
                    }
                }
                double sum = 0;
                for (int m = 0; m < rows.length; m++) {
                    if (w[m] > 0) {
                        sum += Math.exp(Math.log(w[m]) + logP[m][j] - max);
                    }
                }
                out[off + j] = temperature * (max + Math.log(sum));
            }
        }
        return out;
    }

    private void memberWeights(double[][] rows, int off, int classes, double[] w, double[] p) {
        if (aggregation != Aggregation.CONFIDENCE_WEIGHTED) {
            System.arraycopy(weights, 0, w, 0, w.length);
            return;
        }
        double[] logW = new double[rows.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int m = 0; m < rows.length; m++) {
            softmax(rows[m], off, classes, p);
            double entropy = 0;
            for (double v : p) {
                entropy -= v > 0 ? v * Math.log(v) : 0;
            }
            logW[m] = weights[m] > 0 ? Math.log(weights[m]) - entropy : Double.NEGATIVE_INFINITY;
            max = Math.max(max, logW[m]);
        }
        double sum = 0;
        for (int m = 0; m < rows.length; m++) {
            w[m] = Math.exp(logW[m] - max);
            sum += w[m];
        }
        for (int m = 0; m < rows.length; m++) {
            w[m] /= sum;
        }
    }

    private void logSoftmax(double[] x, int off, int classes, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            max = Math.max(max, x[off + j] / temperature);
        }
        double sum = 0;
        for (int j = 0; j < classes; j++) {
            sum += Math.exp(x[off + j] / temperature - max);
        }
        double lse = max + Math.log(sum);
        for (int j = 0; j < classes; j++) {
            out[j] = x[off + j] / temperature - lse;
        }
    }

    private void softmax(double[] x, int off, int classes, double[] out) {
        logSoftmax(x, off, classes, out);
        for (int j = 0; j < classes; j++) {
            out[j] = Math.exp(out[j]);
        }
    }

    /** {@code [b, c]} or {@code [b, c, t]} to row-major {@code [b*t, c]} doubles. */
    static double[] asRows(INDArray a) {
        if (a.rank() == 2) {
            return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        }
        if (a.rank() == 3) {
            return a.castTo(DataType.DOUBLE).permute(0, 2, 1).dup('c').data().asDouble();
        }
        throw new IllegalArgumentException("teacher logits must have rank 2 or 3, got shape " + Arrays.toString(a.shape()));
    }

    /** Inverse of {@link #asRows}, in the data type of {@code like}. */
    static INDArray fromRows(double[] rows, INDArray like) {
        if (like.rank() == 2) {
            return Nd4j.create(rows, like.shape(), DataType.DOUBLE).castTo(like.dataType());
        }
        long b = like.size(0);
        long c = like.size(1);
        long t = like.size(2);
        INDArray btc = Nd4j.create(rows, new long[] {b, t, c}, DataType.DOUBLE);
        return btc.permute(0, 2, 1).dup('c').castTo(like.dataType());
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder("MultiTeacher(" + aggregation.name().toLowerCase(java.util.Locale.ROOT)
                + ", temperature=" + temperature + ", weights=" + Arrays.toString(weights) + ", members=[");
        for (int m = 0; m < members.size(); m++) {
            b.append(m == 0 ? "" : "; ").append(members.get(m).describe());
        }
        return b.append("], fingerprint ").append(fingerprint).append(')').toString();
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    /** Builder of a {@link MultiTeacher}. */
    public static final class Builder {
        private final List<Teacher> members = new ArrayList<>();
        private final List<Double> weights = new ArrayList<>();
        private Aggregation aggregation = Aggregation.AVERAGE_PROBABILITIES;
        private double temperature = 1.0;

        private Builder() {
        }

        /** Adds a member with weight 1. */
        public Builder add(Teacher teacher) {
            return add(teacher, 1.0);
        }

        /** Adds a member with a fixed weight &gt;= 0 (weights are normalised to sum to 1). */
        public Builder add(Teacher teacher, double weight) {
            Objects.requireNonNull(teacher, "member teacher must not be null");
            if (!(weight >= 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("weight of member teacher " + members.size()
                        + " must be >= 0 and finite, got " + weight);
            }
            members.add(teacher);
            weights.add(weight);
            return this;
        }

        /** How to aggregate (default {@link Aggregation#AVERAGE_PROBABILITIES}). */
        public Builder aggregation(Aggregation aggregation) {
            this.aggregation = aggregation;
            return this;
        }

        /** Temperature of the probabilities that are averaged and whose entropies weigh (default 1). */
        public Builder temperature(double temperature) {
            this.temperature = temperature;
            return this;
        }

        public MultiTeacher build() {
            return new MultiTeacher(this);
        }
    }
}
