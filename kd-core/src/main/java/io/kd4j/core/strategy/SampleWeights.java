package io.kd4j.core.strategy;

import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-example weights on the distillation objective: example {@code i}'s loss (every term of the
 * objective) is multiplied by {@code w_i >= 0}, so the trained objective is
 * {@code (1/n) sum_i w_i l_i}. Weights are computed per batch, after the teacher ran, from the
 * features, the hard one-hot labels and the teacher's logits; a user hook is any lambda:
 *
 * <pre>{@code
 * Distiller.builder()...sampleWeights((features, labels, teacherLogits) -> myWeights).build();
 * Distiller.builder()...sampleWeights(SampleWeights.teacherConfidence(Confidence.MAX_PROBABILITY, 1.0)).build();
 * }</pre>
 *
 * They travel with the batch as DL4J's labels mask (multiplied into any existing mask), which the
 * student's {@code DistillationLossFunction} applies to each example's score and gradient. Batches
 * of {@code [batch, classes]} labels only (not sequences). Weights must be finite and &gt;= 0.
 */
@FunctionalInterface
public interface SampleWeights {

    /**
     * The weight of each example of a batch.
     *
     * @param features the batch's features
     * @param labels the hard one-hot labels {@code [batch, classes]}
     * @param teacherLogits the teacher's logits {@code [batch, classes]}
     * @return {@code batch} finite weights &gt;= 0
     */
    double[] weights(INDArray features, INDArray labels, INDArray teacherLogits);

    /** Teacher-confidence measures. */
    enum Confidence {
        /** {@code max_c p_c}: in [1/C, 1]. */
        MAX_PROBABILITY,
        /** {@code 1 - H(p) / log C}: 0 for a uniform teacher, 1 for a one-hot teacher. */
        ONE_MINUS_NORMALIZED_ENTROPY
    }

    /**
     * Teacher-confidence weights (as in uncertainty-guided KD, e.g. "Cognitive-Uncertainty Guided
     * Knowledge Distillation"): {@code w_i = confidence(softmax(t_i / T))}, so that examples the
     * teacher is unsure about count less.
     *
     * @param temperature &gt; 0, the temperature of the teacher distribution the confidence is read from
     */
    static SampleWeights teacherConfidence(Confidence confidence, double temperature) {
        Objects.requireNonNull(confidence, "confidence must not be null");
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite, got " + temperature);
        }
        return (features, labels, teacherLogits) -> {
            int n = (int) teacherLogits.size(0);
            int c = (int) teacherLogits.size(1);
            double[] t = teacherLogits.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[] w = new double[n];
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    max = Math.max(max, t[i * c + j] / temperature);
                }
                double z = 0;
                for (int j = 0; j < c; j++) {
                    z += Math.exp(t[i * c + j] / temperature - max);
                }
                double best = 0;
                double entropy = 0;
                for (int j = 0; j < c; j++) {
                    double p = Math.exp(t[i * c + j] / temperature - max) / z;
                    best = Math.max(best, p);
                    entropy -= p > 0 ? p * Math.log(p) : 0;
                }
                w[i] = confidence == Confidence.MAX_PROBABILITY ? best
                        : c == 1 ? 1.0 : Math.max(0.0, 1.0 - entropy / Math.log(c));
            }
            return w;
        };
    }

    /** These weights rescaled to mean 1 over each batch (all-zero batches stay zero). */
    default SampleWeights normalizedToMeanOne() {
        return (features, labels, teacherLogits) -> {
            double[] w = weights(features, labels, teacherLogits);
            double sum = 0;
            for (double v : w) {
                sum += v;
            }
            if (sum > 0) {
                for (int i = 0; i < w.length; i++) {
                    w[i] *= w.length / sum;
                }
            }
            return w;
        };
    }
}
