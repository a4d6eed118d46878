package io.kd4j.examples.tasks;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Candidate lists for ranking distillation built from labelled images: each query image gets
 * {@code candidates} candidates, candidate 0 another image of the same class (the relevant one) and
 * candidates 1.. images of other classes (distinct, drawn uniformly with a seeded generator).
 *
 * <p>Features are laid out for a shared scorer: {@code [queries, 2d, 1, candidates]}, where column
 * {@code k} holds the query's {@code d} pixels followed by candidate {@code k}'s. A stack of 1×1
 * convolutions then scores every (query, candidate) pair with the same weights, so no position is
 * special; the relevant candidate is always at position 0, which the losses of the ranking catalogue
 * ({@code MarginMse}: column 0 is the positive) expect. Labels are one-hot on position 0.
 *
 * @param features {@code [queries, 2d, 1, candidates]}
 * @param labels {@code [queries, candidates]}, one-hot on candidate 0
 * @param members per list, the image indices of the query and of its candidates ({@code 1 + candidates})
 */
public record RankingLists(INDArray features, INDArray labels, int[][] members) {

    /**
     * Lists for the first {@code queries} images of {@code images} ({@code [n, d]}).
     *
     * @param classes the class of each image; every query's class needs a second image and there must
     *                be {@code candidates - 1} images of other classes
     */
    public static RankingLists build(INDArray images, int[] classes, int queries, int candidates, long seed) {
        int n = (int) images.size(0);
        int d = (int) images.size(1);
        if (candidates < 2) {
            throw new IllegalArgumentException("candidates must be >= 2 (one relevant, at least one other), got "
                    + candidates);
        }
        if (queries < 1 || queries > n) {
            throw new IllegalArgumentException("queries must be in [1, " + n + "], got " + queries);
        }
        float[] x = images.castTo(DataType.FLOAT).dup('c').data().asFloat();
        Random random = new Random(seed);
        int[][] members = new int[queries][];
        float[] f = new float[queries * 2 * d * candidates];
        for (int q = 0; q < queries; q++) {
            int[] list = new int[1 + candidates];
            list[0] = q;
            list[1] = draw(random, classes, q, true, list, 1);
            for (int k = 1; k < candidates; k++) {
                list[1 + k] = draw(random, classes, q, false, list, 1 + k);
            }
            members[q] = list;
            for (int k = 0; k < candidates; k++) {
                for (int p = 0; p < d; p++) {
                    f[((q * 2 * d) + p) * candidates + k] = x[q * d + p];
                    f[((q * 2 * d) + d + p) * candidates + k] = x[list[1 + k] * d + p];
                }
            }
        }
        INDArray labels = Nd4j.zeros(DataType.FLOAT, queries, candidates);
        for (int q = 0; q < queries; q++) {
            labels.putScalar(q, 0, 1.0);
        }
        return new RankingLists(Nd4j.create(f, new long[] {queries, 2L * d, 1, candidates}, 'c'), labels, members);
    }

    /** An image index other than the query and the ones already drawn, of the query's class or another. */
    private static int draw(Random random, int[] classes, int query, boolean sameClass, int[] drawn, int count) {
        for (int attempt = 0; attempt < 100_000; attempt++) {
            int j = random.nextInt(classes.length);
            if ((classes[j] == classes[query]) != sameClass) {
                continue;
            }
            boolean fresh = true;
            for (int i = 0; i < count; i++) {
                fresh &= drawn[i] != j;
            }
            if (fresh) {
                return j;
            }
        }
        throw new IllegalArgumentException("cannot draw a " + (sameClass ? "relevant" : "non-relevant")
                + " candidate for query " + query + " (class " + classes[query] + "): too few images");
    }

    /** The number of lists. */
    public int size() {
        return members.length;
    }
}
