package io.kd4j.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns a labelled data set into a long-tailed one with the exponential profile of Cao et al.
 * (LDAM-DRW, NeurIPS 2019) and the long-tailed CIFAR benchmarks:
 * <pre>
 *   n_c = floor( n_max · ratio^(-c/(C-1)) ),   c = 0 .. C-1
 * </pre>
 * so class 0 keeps {@code n_max} examples and class {@code C-1} keeps {@code n_max / ratio}
 * (the imbalance ratio is {@code n_0 / n_{C-1}}). {@code n_max} is {@link Builder#maxPerClass} or,
 * by default, the smallest class's count in the source. The examples of each class are drawn without
 * replacement by a seeded shuffle and kept in source order, so the same seed gives the same subset.
 * Apply it to the training data only: the test set stays balanced.
 *
 * <pre>{@code
 * LongTailed.Subset lt = LongTailed.builder().imbalanceRatio(100).seed(7).build().apply(trainX, trainY);
 * lt.classCounts();   // [800, 479, 287, ...]
 * lt.groups();        // head / medium / tail by thirds, as Ltkd(grouping=thirds) derives them
 * }</pre>
 */
public final class LongTailed {
    private final double imbalanceRatio;
    private final long seed;
    private final int maxPerClass;

    private LongTailed(Builder b) {
        if (!(b.imbalanceRatio >= 1) || Double.isInfinite(b.imbalanceRatio)) {
            throw new IllegalArgumentException("imbalanceRatio must be >= 1 and finite, got " + b.imbalanceRatio);
        }
        if (b.maxPerClass < 0) {
            throw new IllegalArgumentException("maxPerClass must be >= 0 (0 = the smallest class's count), got "
                    + b.maxPerClass);
        }
        this.imbalanceRatio = b.imbalanceRatio;
        this.seed = b.seed;
        this.maxPerClass = b.maxPerClass;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The long-tailed subset.
     *
     * @param features examples {@code [n, ...]}
     * @param labels one-hot labels {@code [n, classes]}
     * @param indices the rows of the source kept, ascending
     * @param classCounts examples per class in the subset
     * @param imbalanceRatio the requested ratio
     * @param seed the seed of the draw
     */
    public record Subset(INDArray features, INDArray labels, int[] indices, long[] classCounts, double imbalanceRatio,
                         long seed) {
        public Subset {
            indices = indices.clone();
            classCounts = classCounts.clone();
        }

        @Override
        public int[] indices() {
            return indices.clone();
        }

        @Override
        public long[] classCounts() {
            return classCounts.clone();
        }

        /** Number of examples. */
        public int size() {
            return indices.length;
        }

        /** Head / medium / tail by thirds of the class ranking (the LTKD paper's split). */
        public ClassGroups groups() {
            return ClassGroups.byThirds(classCounts);
        }

        /** The counts as the {@code classCounts} parameter of Ltkd / LogitAdjustment: {@code 800;479;...}. */
        public String countsParameter() {
            StringBuilder b = new StringBuilder();
            for (long n : classCounts) {
                b.append(b.length() > 0 ? ";" : "").append(n);
            }
            return b.toString();
        }
    }

    /** The per-class target counts for {@code classes} classes and the largest class's count {@code max}. */
    public long[] profile(int classes, long max) {
        if (classes < 2) {
            throw new IllegalArgumentException("classes must be >= 2, got " + classes);
        }
        long[] n = new long[classes];
        for (int c = 0; c < classes; c++) {
            n[c] = (long) Math.floor(max * Math.pow(imbalanceRatio, -c / (double) (classes - 1)) + 1e-9);
        }
        if (n[classes - 1] < 1) {
            throw new IllegalArgumentException("imbalanceRatio " + imbalanceRatio + " needs at least " 
                    + (long) Math.ceil(imbalanceRatio) + " examples in the largest class, got " + max);
        }
        return n;
    }

    /** Draws the long-tailed subset of {@code features} / one-hot {@code labels}. */
    public Subset apply(INDArray features, INDArray labels) {
        Objects.requireNonNull(features, "features must not be null");
        Objects.requireNonNull(labels, "labels must not be null");
        if (labels.rank() != 2 || features.size(0) != labels.size(0)) {
            throw new IllegalArgumentException("need one-hot labels [n, classes] with one row per example, got features "
                    + Arrays.toString(features.shape()) + " and labels " + Arrays.toString(labels.shape()));
        }
        int classes = (int) labels.size(1);
        long[] y = labels.argMax(1).data().asLong();
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < y.length; i++) {
            byClass.get((int) y[i]).add(i);
        }
        long smallest = byClass.stream().mapToLong(List::size).min().orElse(0);
        long max = maxPerClass > 0 ? maxPerClass : smallest;
        long[] target = profile(classes, max);
        Random rnd = new Random(seed);
        List<Integer> kept = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            List<Integer> pool = byClass.get(c);
            if (pool.size() < target[c]) {
                throw new IllegalArgumentException("class " + c + " has " + pool.size() + " examples but the profile "
                        + "needs " + target[c] + " (maxPerClass=" + max + ", imbalanceRatio=" + imbalanceRatio + ")");
            }
            List<Integer> shuffled = new ArrayList<>(pool);
            java.util.Collections.shuffle(shuffled, rnd);
            kept.addAll(shuffled.subList(0, (int) target[c]));
        }
        int[] idx = kept.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Subset(features.getRows(idx), labels.getRows(idx), idx, target, imbalanceRatio, seed);
    }

    /** Builder of a {@link LongTailed} transform. */
    public static final class Builder {
        private double imbalanceRatio = 100;
        private long seed = 42;
        private int maxPerClass;

        private Builder() {
        }

        /** {@code n_max / n_min}, &gt;= 1 (default 100; 1 = a balanced subsample). */
        public Builder imbalanceRatio(double ratio) {
            this.imbalanceRatio = ratio;
            return this;
        }

        /** Seed of the per-class draws (default 42). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Examples kept of class 0, &gt;= 0 (default 0: the smallest class's count in the source). */
        public Builder maxPerClass(int max) {
            this.maxPerClass = max;
            return this;
        }

        public LongTailed build() {
            return new LongTailed(this);
        }
    }
}
