package io.kd4j.examples.tasks;

import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A ranking teacher built from an image classifier: the score of candidate {@code c} for query
 * {@code q} is the log-probability that the two images are of the same class when each is classified
 * independently by the classifier,
 * <pre>
 *   score(q, c) = log Σ_k p_k(q) p_k(c)      (p = softmax of the classifier's logits)
 * </pre>
 * i.e. the log of the dot product of the two images' probability embeddings, computed as a
 * log-sum-exp of log-probabilities. It reads the {@link RankingLists} layout: features
 * {@code [lists, 2d, 1, candidates]} (query pixels, then candidate pixels, per column) and returns
 * {@code [lists, candidates]} scores, the teacher block of the ranking losses.
 */
public final class PairScoreTeacher implements Teacher {
    private final Teacher classifier;
    private final int pixels;

    /**
     * @param classifier a frozen classifier of {@code pixels}-wide images (its logits are read)
     * @param pixels the width {@code d} of one image
     */
    public PairScoreTeacher(Teacher classifier, int pixels) {
        this.classifier = Objects.requireNonNull(classifier, "classifier must not be null");
        if (pixels < 1) {
            throw new IllegalArgumentException("pixels must be >= 1, got " + pixels);
        }
        this.pixels = pixels;
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        INDArray f = batch.features();
        if (f.rank() != 4 || f.size(1) != 2L * pixels || f.size(2) != 1) {
            throw new IllegalArgumentException("ranking features must be [lists, " + 2 * pixels + ", 1, candidates], got "
                    + Arrays.toString(f.shape()));
        }
        int lists = (int) f.size(0);
        int k = (int) f.size(3);
        float[] x = f.castTo(DataType.FLOAT).dup('c').data().asFloat();
        // every list's query (column 0) and every candidate, as rows of one classifier batch
        float[] images = new float[lists * (1 + k) * pixels];
        for (int l = 0; l < lists; l++) {
            for (int p = 0; p < pixels; p++) {
                images[(l * (1 + k)) * pixels + p] = x[((l * 2 * pixels) + p) * k];
                for (int c = 0; c < k; c++) {
                    images[(l * (1 + k) + 1 + c) * pixels + p] = x[((l * 2 * pixels) + pixels + p) * k + c];
                }
            }
        }
        INDArray in = Nd4j.create(images, new long[] {(long) lists * (1 + k), pixels}, 'c');
        double[][] logits = classifier.logits(new TeacherBatch(in, null, 0)).castTo(DataType.DOUBLE).toDoubleMatrix();
        double[] scores = new double[lists * k];
        for (int l = 0; l < lists; l++) {
            double[] q = logSoftmax(logits[l * (1 + k)]);
            for (int c = 0; c < k; c++) {
                scores[l * k + c] = logSumExpOfSum(q, logSoftmax(logits[l * (1 + k) + 1 + c]));
            }
        }
        return Nd4j.create(scores, new long[] {lists, k}, DataType.DOUBLE).castTo(f.dataType());
    }

    static double[] logSoftmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow();
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        return Arrays.stream(z).map(v -> v - lse).toArray();
    }

    /** {@code log Σ_k exp(a_k + b_k)}. */
    static double logSumExpOfSum(double[] a, double[] b) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, a[i] + b[i]);
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.exp(a[i] + b[i] - max);
        }
        return max + Math.log(sum);
    }

    @Override
    public String describe() {
        return "PairScoreTeacher(log same-class probability of " + classifier.describe() + ")";
    }

    @Override
    public String fingerprint() {
        return Fingerprints.of("pair-score|" + pixels + "|" + classifier.fingerprint(), null);
    }
}
