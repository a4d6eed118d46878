package io.kd4j.core.metrics;

import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.Arrays;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Class probabilities of a model on labelled data, with the true classes: the input of every metric
 * ({@link ConfusionMatrix}, {@link Calibration}, {@link Agreement}). Held in double precision, one row
 * per example, in the iterator's order. Immutable.
 */
public final class Predictions {
    /** Tolerance on a probability row's sum: float32 softmax outputs sum to 1 within ~1e-6. */
    private static final double ROW_SUM_TOLERANCE = 1e-3;

    private final double[] probabilities;
    private final int[] labels;
    private final int classes;

    private Predictions(double[] probabilities, int[] labels, int classes) {
        this.probabilities = probabilities;
        this.labels = labels;
        this.classes = classes;
    }

    /**
     * From explicit probability rows and class indices (each row non-negative, summing to 1).
     *
     * @param probabilities {@code [n][classes]}
     * @param labels the true class of each row, in {@code [0, classes)}
     */
    public static Predictions of(double[][] probabilities, int[] labels) {
        Objects.requireNonNull(probabilities, "probabilities must not be null");
        Objects.requireNonNull(labels, "labels must not be null");
        if (probabilities.length != labels.length) {
            throw new IllegalArgumentException("probabilities and labels must have the same number of examples, got "
                    + probabilities.length + " and " + labels.length);
        }
        if (probabilities.length == 0) {
            throw new IllegalArgumentException("predictions need at least one example, got none");
        }
        int c = probabilities[0].length;
        if (c < 2) {
            throw new IllegalArgumentException("predictions need at least 2 classes, got " + c);
        }
        double[] flat = new double[probabilities.length * c];
        for (int i = 0; i < probabilities.length; i++) {
            if (probabilities[i].length != c) {
                throw new IllegalArgumentException("every probability row must have " + c + " classes, row " + i
                        + " has " + probabilities[i].length);
            }
            System.arraycopy(probabilities[i], 0, flat, i * c, c);
        }
        int[] y = labels.clone();
        check(flat, y, c);
        return new Predictions(flat, y, c);
    }

    /**
     * Runs {@code model} in inference mode over {@code data} (reset before and after). The model's
     * output must be class probabilities (a softmax output layer, as every plain DL4J classifier and
     * every student kd4j returns has); labels must be one-hot {@code [batch, classes]}.
     */
    public static Predictions of(Model model, DataSetIterator data) {
        Objects.requireNonNull(model, "model must not be null");
        return collect(data, ds -> Metrics.output(model, ds.getFeatures()), false);
    }

    /**
     * The softmax of a frozen teacher's logits over {@code data} (reset before and after). For a teacher
     * of several stacked blocks ({@link Teacher#blockWeights()}) the prediction is the ensemble's: the
     * members' softmaxes averaged with the block weights.
     */
    public static Predictions of(Teacher teacher, DataSetIterator data) {
        Objects.requireNonNull(teacher, "teacher must not be null");
        long[] first = {0};
        double[] blocks = teacher.blockWeights();
        return collect(data, ds -> {
            INDArray logits = teacher.logits(new TeacherBatch(ds.getFeatures(), ds.getFeaturesMaskArray(), first[0]));
            first[0] += ds.getFeatures().size(0);
            return blocks.length == 1 ? logits : logMixture(logits, blocks);
        }, true);
    }

    /** {@code log Σ_m a_m softmax(t_m)} per row of stacked logits {@code [batch, M·classes]} (its softmax is the mixture). */
    static INDArray logMixture(INDArray stacked, double[] weights) {
        if (stacked.rank() != 2 || stacked.size(1) % weights.length != 0) {
            throw new IllegalArgumentException("stacked teacher logits must be [batch, " + weights.length
                    + "·classes], got " + Arrays.toString(stacked.shape()));
        }
        int n = (int) stacked.size(0);
        int c = (int) stacked.size(1) / weights.length;
        double[] x = stacked.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            double[] p = new double[c];
            for (int m = 0; m < weights.length; m++) {
                int off = i * weights.length * c + m * c;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    max = Math.max(max, x[off + j]);
                }
                double z = 0;
                for (int j = 0; j < c; j++) {
                    z += Math.exp(x[off + j] - max);
                }
                for (int j = 0; j < c; j++) {
                    p[j] += weights[m] * Math.exp(x[off + j] - max) / z;
                }
            }
            for (int j = 0; j < c; j++) {
                out[i * c + j] = Math.log(Math.max(p[j], Double.MIN_VALUE));
            }
        }
        return Nd4j.create(out, new long[] {n, c}, DataType.DOUBLE);
    }

    private interface Forward {
        INDArray apply(DataSet ds);
    }

    private static Predictions collect(DataSetIterator data, Forward forward, boolean logits) {
        Objects.requireNonNull(data, "data must not be null");
        data.reset();
        double[] probs = new double[1024];
        int[] labels = new int[64];
        int n = 0;
        int c = -1;
        while (data.hasNext()) {
            DataSet ds = data.next();
            INDArray out = forward.apply(ds).castTo(DataType.DOUBLE);
            INDArray y = ds.getLabels();
            if (out.rank() != 2 || y == null || y.rank() != 2 || y.size(1) != out.size(1) || y.size(0) != out.size(0)) {
                throw new IllegalArgumentException("need outputs [batch, classes] and one-hot labels of the same shape, got "
                        + Arrays.toString(out.shape()) + " and " + (y == null ? "null" : Arrays.toString(y.shape())));
            }
            c = (int) out.size(1);
            int b = (int) out.size(0);
            double[] rows = out.dup('c').data().asDouble();
            if (logits) {
                softmaxRows(rows, b, c);
            }
            long[] cls = y.argMax(1).data().asLong();
            while (probs.length < (n + b) * c) {
                probs = Arrays.copyOf(probs, probs.length * 2);
            }
            while (labels.length < n + b) {
                labels = Arrays.copyOf(labels, labels.length * 2);
            }
            System.arraycopy(rows, 0, probs, n * c, b * c);
            for (int i = 0; i < b; i++) {
                labels[n + i] = (int) cls[i];
            }
            n += b;
        }
        data.reset();
        if (n == 0) {
            throw new IllegalArgumentException("evaluation iterator is empty");
        }
        double[] p = Arrays.copyOf(probs, n * c);
        int[] l = Arrays.copyOf(labels, n);
        check(p, l, c);
        return new Predictions(p, l, c);
    }

    private static void softmaxRows(double[] x, int rows, int c) {
        for (int i = 0; i < rows; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, x[i * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                x[i * c + j] = Math.exp(x[i * c + j] - max);
                sum += x[i * c + j];
            }
            for (int j = 0; j < c; j++) {
                x[i * c + j] /= sum;
            }
        }
    }

    private static void check(double[] p, int[] labels, int c) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException("label of example " + i + " must be in [0, " + c + "), got " + labels[i]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                double v = p[i * c + j];
                if (!(v >= 0 && v <= 1 + ROW_SUM_TOLERANCE)) {
                    throw new IllegalArgumentException("probabilities must be in [0, 1], got " + v + " at example " + i
                            + ", class " + j + " (is the output layer a softmax? teacher logits: use Predictions.of(Teacher, ...))");
                }
                sum += v;
            }
            if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
                throw new IllegalArgumentException("probabilities of example " + i + " must sum to 1, got " + sum
                        + " (is the output layer a softmax?)");
            }
        }
    }

    /** Number of examples. */
    public int size() {
        return labels.length;
    }

    /** Number of classes. */
    public int classes() {
        return classes;
    }

    /** The probability of class {@code c} for example {@code i}. */
    public double probability(int i, int c) {
        return probabilities[i * classes + c];
    }

    /** The true class of example {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** The top-1 class of example {@code i} (the lowest index among ties). */
    public int predicted(int i) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (probabilities[i * classes + c] > probabilities[i * classes + best]) {
                best = c;
            }
        }
        return best;
    }

    /** The top-1 probability of example {@code i}. */
    public double confidence(int i) {
        return probability(i, predicted(i));
    }
}
