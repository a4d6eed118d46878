package io.kd4j.core.feature;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.PerTeacherAverage;
import io.kd4j.losses.feature.FeatureBatch;
import io.kd4j.losses.feature.FeatureInput;
import io.kd4j.losses.feature.FeatureLoss;
import io.kd4j.losses.feature.FeatureResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Plugs a {@link FeatureLoss} into DL4J as the {@link ILossFunction} of a feature head's loss layer,
 * so that the loss's gradient flows into the student's intermediate layers through DL4J's own fit.
 *
 * <p>The head receives the adapted student activations flattened per example ({@code [batch,
 * Ds]}, see {@link FlattenPreProcessor}); its "labels" are the teacher's activations flattened per
 * example, followed for recurrent taps by the {@code [time]} step mask: {@code [batch, Dt (+ T)]}.
 * The function restores both shapes, evaluates the loss on the whole batch, and answers DL4J's
 * per-example contract as {@code DistillationLossFunction} does for batch-coupled losses: every
 * example's score is {@code weight · value} and its gradient {@code n · weight · ∂value/∂s}, so DL4J's
 * minibatch mean equals the weighted batch value.
 *
 * <p><b>Several teachers</b> ({@code teacherWeights} of length {@code M > 1}, a {@code MultiTeacher}
 * averaging per-teacher losses): the labels hold the {@code M} members' activations side by side
 * ({@code [batch, M·Dt (+ T)]}, member {@code m} in columns {@code m·Dt ..}); the loss is evaluated once
 * per member against the same student activation and the values and gradients are averaged with the
 * weights: {@code Σ_m a_m L(s, t_m)}. A loss that keeps state across steps (CRD's memory of teacher
 * embeddings) cannot be shared by several teachers and is refused.
 *
 * <p>Everything travels through DL4J's JSON (the loss as its catalogue formula, the weight, the term
 * name, the per-example shapes, the teacher weights), so a saved training graph reloads with the same
 * heads.
 */
public final class FeatureLossFunction implements ILossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("term")
    private final String term;
    @JsonProperty("loss")
    private final String loss;
    @JsonProperty("weight")
    private final double weight;
    @JsonProperty("studentShape")
    private final long[] studentShape;
    @JsonProperty("teacherShape")
    private final long[] teacherShape;
    @JsonProperty("masked")
    private final boolean masked;
    /** Normalised weights of stacked teachers, or {@code null} for one teacher. */
    @JsonProperty("teacherWeights")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private final double[] teacherWeights;

    private transient volatile FeatureLoss parsed;
    private transient volatile Cached cache;
    private transient volatile double lastValue = Double.NaN;

    private record Cached(double[] student, double[] labels, FeatureResult result, FeatureBatch batch) {
    }

    /** One teacher: see {@link #FeatureLossFunction(String, String, double, long[], long[], boolean, double[])}. */
    public FeatureLossFunction(String term, String loss, double weight, long[] studentShape, long[] teacherShape,
                               boolean masked) {
        this(term, loss, weight, studentShape, teacherShape, masked, null);
    }

    /**
     * @param term the term's name in logs and reports
     * @param loss the feature loss as its catalogue formula, e.g. {@code AttentionTransfer(p=2.0)}
     * @param weight the term's weight, finite and &gt;= 0
     * @param studentShape per-example shape of the adapted student activation (without the batch)
     * @param teacherShape per-example shape of the teacher activation (without the batch)
     * @param masked whether the labels carry a {@code [time]} step mask after the teacher block
     * @param teacherWeights {@code null} (or one weight) for one teacher; else the weights of {@code M}
     *                       stacked teachers (normalised to sum to 1), each with {@code teacherShape}
     */
    @JsonCreator
    public FeatureLossFunction(@JsonProperty("term") String term, @JsonProperty("loss") String loss,
                               @JsonProperty("weight") double weight, @JsonProperty("studentShape") long[] studentShape,
                               @JsonProperty("teacherShape") long[] teacherShape, @JsonProperty("masked") boolean masked,
                               @JsonProperty("teacherWeights") double[] teacherWeights) {
        this.term = Objects.requireNonNull(term, "term must not be null");
        if (!Double.isFinite(weight) || weight < 0) {
            throw new IllegalArgumentException("weight of feature term " + term + " must be finite and >= 0, got " + weight);
        }
        this.parsed = parse(Objects.requireNonNull(loss, "loss must not be null"));
        this.loss = parsed.describe();
        this.weight = weight;
        this.studentShape = studentShape.clone();
        this.teacherShape = teacherShape.clone();
        this.masked = masked;
        if (masked && (studentShape.length != 2 || teacherShape.length != 2)) {
            throw new IllegalArgumentException("a masked feature term needs recurrent [size, time] shapes, got "
                    + Arrays.toString(studentShape) + " and " + Arrays.toString(teacherShape));
        }
        double[] w = teacherWeights == null ? null : PerTeacherAverage.normalise(teacherWeights);
        this.teacherWeights = w == null || w.length == 1 ? null : w;
        if (this.teacherWeights != null && parsed.name().equals("Crd")) {
            throw new IllegalArgumentException("feature term " + term + ": Crd keeps a memory of teacher embeddings "
                    + "across steps and cannot average " + w.length + " teachers; use one teacher or another loss");
        }
    }

    /** A feature loss from its formula {@code Name} or {@code Name(key=value, ...)}, by catalogue name. */
    static FeatureLoss parse(String formula) {
        String f = formula.trim();
        int paren = f.indexOf('(');
        String name = paren < 0 ? f : f.substring(0, paren).trim();
        Map<String, String> params = new LinkedHashMap<>();
        if (paren >= 0) {
            if (!f.endsWith(")")) {
                throw new IllegalArgumentException("feature loss '" + formula + "' must end with ')'");
            }
            String inner = f.substring(paren + 1, f.length() - 1).trim();
            if (!inner.isEmpty()) {
                for (String kv : inner.split(",")) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("parameter '" + kv.trim() + "' of " + name + " must be key=value");
                    }
                    params.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                }
            }
        }
        DistillationLoss l = LossCatalogue.create(name, params);
        if (!(l instanceof FeatureLoss fl)) {
            throw new IllegalArgumentException("'" + name + "' is not a feature loss (it reads logits); feature taps "
                    + "take feature losses such as FitNetsHint, AttentionTransfer, RkdDistance");
        }
        return fl;
    }

    /** The feature loss (one instance per function: CRD's memory lives here). */
    @JsonIgnore
    public FeatureLoss featureLoss() {
        FeatureLoss l = parsed;
        if (l == null) {
            l = parse(loss);
            parsed = l;
        }
        return l;
    }

    /** The term's name. */
    @JsonIgnore
    public String term() {
        return term;
    }

    /** The term's weight. */
    @JsonIgnore
    public double weight() {
        return weight;
    }

    /** The unweighted loss value of the most recent evaluation (NaN before the first). */
    @JsonIgnore
    public double lastValue() {
        return lastValue;
    }

    private Cached evaluate(INDArray labels, INDArray preOutput, IActivation activationFn) {
        if (labels == null || preOutput == null || labels.rank() != 2 || preOutput.rank() != 2) {
            throw new IllegalArgumentException("feature term " + term + ": expected 2-d labels and preOutput, got "
                    + (labels == null ? "null" : Arrays.toString(labels.shape())) + " and "
                    + (preOutput == null ? "null" : Arrays.toString(preOutput.shape())));
        }
        int n = (int) preOutput.size(0);
        long ds = product(studentShape);
        long dt = product(teacherShape);
        int members = teacherWeights == null ? 1 : teacherWeights.length;
        long width = members * dt + (masked ? teacherShape[1] : 0);
        if (preOutput.size(1) != ds || labels.size(0) != n || labels.size(1) != width) {
            throw new IllegalArgumentException("feature term " + term + ": expected student [" + n + ", " + ds
 + "] and labels [" + n + ", " + width + "] (teacher " + (members == 1 ? "" : members + " x ")
                    + Arrays.toString(teacherShape) + (masked ? " + mask" : "") + "), got " + Arrays.toString(preOutput.shape()) + " and "
                    + Arrays.toString(labels.shape()));
        }
        double[] student = activationFn.getActivation(preOutput.dup(), true).castTo(DataType.DOUBLE).dup('c').data()
                .asDouble();
        double[] packed = labels.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        Cached c = cache;
        if (c != null && Arrays.equals(c.student, student) && Arrays.equals(c.labels, packed)) {
            return c;
        }
        double[] mask = masked ? new double[(int) (n * teacherShape[1])] : null;
        for (int i = 0; masked && i < n; i++) {
            System.arraycopy(packed, (int) (i * width + members * dt), mask, (int) (i * teacherShape[1]),
                    (int) teacherShape[1]);
        }
        INDArray studentArr = Nd4j.create(student, withBatch(n, studentShape), DataType.DOUBLE);
        INDArray maskArr = masked ? Nd4j.create(mask, new long[] {n, teacherShape[1]}, DataType.DOUBLE) : null;
        FeatureLoss l = featureLoss();
        FeatureBatch batch = null;
        double value = 0;
        double[] grad = null;
        Map<String, Double> terms = new LinkedHashMap<>();
        for (int m = 0; m < members; m++) {
            double a = members == 1 ? 1.0 : teacherWeights[m];
            if (a == 0) {
                continue;
            }
            double[] teacher = new double[(int) (n * dt)];
            for (int i = 0; i < n; i++) {
                System.arraycopy(packed, (int) (i * width + m * dt), teacher, (int) (i * dt), (int) dt);
            }
            FeatureInput in = new FeatureInput(studentArr,
                    Nd4j.create(teacher, withBatch(n, teacherShape), DataType.DOUBLE), maskArr);
            FeatureBatch b = FeatureBatch.from(in, term + " " + l.name() + (members == 1 ? "" : " (teacher " + m + ")"));
            FeatureResult r = l.evaluate(b);
            batch = batch == null ? b : batch;
            value += a * r.value();
            if (grad == null) {
                grad = new double[r.gradient().length];
            }
            for (int i = 0; i < grad.length; i++) {
                grad[i] += a * r.gradient()[i];
            }
            r.terms().forEach((k, v) -> terms.merge(k, a * v, Double::sum));
        }
        FeatureResult r = new FeatureResult(value, grad, terms);
        lastValue = r.value();
        Cached fresh = new Cached(student, packed, r, batch);
        cache = fresh;
        return fresh;
    }

    private static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    private static long[] withBatch(long n, long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Cached c = evaluate(labels, preOutput, activationFn);
        int n = (int) preOutput.size(0);
        return Nd4j.valueArrayOf(new long[] {n, 1}, weight * c.result.value(), DataType.DOUBLE)
                .castTo(preOutput.dataType());
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        Cached c = evaluate(labels, preOutput, activationFn);
        double v = weight * c.result.value();
        return average ? v : v * preOutput.size(0);
    }

    /** The gradient; also lets a stateful loss (CRD) remember this step, once per training step. */
    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Cached c = evaluate(labels, preOutput, activationFn);
        int n = (int) preOutput.size(0);
        double[] g = c.result.gradient();
        double[] full = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            full[i] = g[i] * weight * n;
        }
        // zero at masked steps, as the loss's own scatter does
        INDArray grad = c.batch.scatter(full).reshape('c', n, product(studentShape)).castTo(preOutput.dataType());
        featureLoss().afterStep(c.batch);
        return activationFn.backprop(preOutput.dup(), grad).getFirst();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "Feature(" + term + ": " + weight + "*" + loss + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureLossFunction f && f.term.equals(term) && f.loss.equals(loss) && f.weight == weight
                && Arrays.equals(f.studentShape, studentShape) && Arrays.equals(f.teacherShape, teacherShape)
                && f.masked == masked && Arrays.equals(f.teacherWeights, teacherWeights);
    }

    @Override
    public int hashCode() {
        return Objects.hash(term, loss, weight, Arrays.hashCode(studentShape), Arrays.hashCode(teacherShape), masked,
                Arrays.hashCode(teacherWeights));
    }
}
