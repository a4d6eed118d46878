package io.kd4j.core.strategy;

import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 *   <li>{@link Aggregation#AVERAGE_LOSSES}: no aggregation of outputs; {@link #logits} returns the
 *       members' logits side by side ({@code [batch, M·classes]}, or {@code [batch, M·classes, time]}),
 *       {@link #blockWeights()} returns {@code a_m}, and the distillers evaluate every loss term that
 *       reads the teacher once per member and average the values and gradients with {@code a_m}:
 *       {@code Σ_m a_m L(s, t_m)}, for any catalogue logit loss (DKD, DIST, reverse KL, ...), and
 *       for feature terms (see {@link #activations}).</li>
 * </ul>
 * Sequences ({@code [batch, classes, time]}) aggregate per position. Members must produce logits of
 * the same shape (an error names the member and both shapes).
 *
 * <p>Intermediate activations (feature terms): with {@code AVERAGE_LOSSES} the members' activations
 * of each tapped layer are stacked along dimension 1 (one block per member, the feature loss is
 * evaluated per member and averaged); with any other aggregation they are averaged element-wise with
 * the fixed weights {@code a_m} (confidence weights apply to logits only). Either way every member
 * must have the tapped layer, with the same activation shape (an error names both shapes).
 */
public final class MultiTeacher implements Teacher {

    /** How member outputs are combined. */
    public enum Aggregation { AVERAGE_PROBABILITIES, AVERAGE_LOGITS, CONFIDENCE_WEIGHTED, AVERAGE_LOSSES }

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

    /** The member weights {@code a_m} with {@link Aggregation#AVERAGE_LOSSES} (stacked blocks), else {@code [1.0]}. */
    @Override
    public double[] blockWeights() {
        return aggregation == Aggregation.AVERAGE_LOSSES ? weights.clone() : new double[] {1.0};
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        INDArray[] outs = new INDArray[members.size()];
        double[][] rows = new double[members.size()][];
        for (int m = 0; m < members.size(); m++) {
            outs[m] = members.get(m).logits(batch);
            if (m > 0 && !Arrays.equals(outs[0].shape(), outs[m].shape())) {
                throw new IllegalArgumentException("member teacher " + m + " produced logits of shape "
                        + Arrays.toString(outs[m].shape()) + " but member 0 produced " + Arrays.toString(outs[0].shape()));
            }
            if (aggregation != Aggregation.AVERAGE_LOSSES) {
                rows[m] = asRows(outs[m]);
            }
        }
        if (aggregation == Aggregation.AVERAGE_LOSSES) {
            return stack(outs);
        }
        double[] result = aggregate(rows, (int) outs[0].size(1));
        return fromRows(result, outs[0]);
    }

    /**
     * The members' activations of each tapped layer: stacked along dimension 1 with
     * {@link Aggregation#AVERAGE_LOSSES}, else averaged element-wise with the fixed weights {@code a_m}.
     */
    @Override
    public Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        List<Map<String, INDArray>> perMember = new ArrayList<>();
        for (Teacher t : members) {
            perMember.add(t.activations(batch, layers));
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String layer : layers) {
            INDArray[] acts = new INDArray[members.size()];
            for (int m = 0; m < acts.length; m++) {
                acts[m] = perMember.get(m).get(layer);
                if (m > 0 && !Arrays.equals(acts[0].shape(), acts[m].shape())) {
                    throw new IllegalArgumentException("member teacher " + m + "'s activation of layer '" + layer
                            + "' has shape " + Arrays.toString(acts[m].shape()) + " but member 0's has "
                            + Arrays.toString(acts[0].shape()) + "; members' tapped activations must have one shape");
                }
            }
            if (aggregation == Aggregation.AVERAGE_LOSSES) {
                out.put(layer, stack(acts));
            } else {
                INDArray mean = acts[0].castTo(DataType.DOUBLE).mul(weights[0]);
                for (int m = 1; m < acts.length; m++) {
                    mean.addi(acts[m].castTo(DataType.DOUBLE).mul(weights[m]));
                }
                out.put(layer, mean.castTo(acts[0].dataType()));
            }
        }
        return out;
    }

    /** The arrays side by side along dimension 1, in the data type of the first. */
    private static INDArray stack(INDArray[] arrays) {
        INDArray[] same = new INDArray[arrays.length];
        for (int m = 0; m < arrays.length; m++) {
            same[m] = arrays[m].castTo(arrays[0].dataType());
        }
        return same.length == 1 ? same[0].dup() : Nd4j.concat(1, same);
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
