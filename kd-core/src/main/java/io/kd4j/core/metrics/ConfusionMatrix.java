package io.kd4j.core.metrics;

import io.kd4j.core.data.ClassGroups;
import io.kd4j.losses.logit.Ltkd.Group;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Counts of (true class, predicted class) pairs, with accuracy overall, per class and per class group.
 * Immutable.
 */
public final class ConfusionMatrix {
    private final long[][] counts;

    private ConfusionMatrix(long[][] counts) {
        this.counts = counts;
    }

    /** The confusion matrix of top-1 predictions. */
    public static ConfusionMatrix of(Predictions p) {
        Objects.requireNonNull(p, "predictions must not be null");
        long[][] m = new long[p.classes()][p.classes()];
        for (int i = 0; i < p.size(); i++) {
            m[p.label(i)][p.predicted(i)]++;
        }
        return new ConfusionMatrix(m);
    }

    /** Number of classes. */
    public int classes() {
        return counts.length;
    }

    /** Examples of class {@code actual} predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        return counts[actual][predicted];
    }

    /** A copy of the counts, {@code [actual][predicted]}. */
    public long[][] counts() {
        long[][] c = new long[counts.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].clone();
        }
        return c;
    }

    /** Examples of class {@code c} in the data. */
    public long support(int c) {
        long s = 0;
        for (long v : counts[c]) {
            s += v;
        }
        return s;
    }

    /** Fraction of all examples predicted correctly. */
    public double accuracy() {
        long correct = 0;
        long total = 0;
        for (int c = 0; c < counts.length; c++) {
            correct += counts[c][c];
            total += support(c);
        }
        return correct / (double) total;
    }

    /**
     * Accuracy on the examples of class {@code c} (its recall).
     *
     * @throws IllegalArgumentException when the data hold no example of class {@code c}
     */
    public double classAccuracy(int c) {
        long s = support(c);
        if (s == 0) {
            throw new IllegalArgumentException("class " + c + " has no examples in the evaluation data; its accuracy "
                    + "is undefined");
        }
        return counts[c][c] / (double) s;
    }

    /** {@link #classAccuracy} of every class (every class must occur in the data). */
    public double[] perClassAccuracy() {
        double[] a = new double[counts.length];
        for (int c = 0; c < a.length; c++) {
            a[c] = classAccuracy(c);
        }
        return a;
    }

    /**
     * Accuracy on the examples whose true class is in each group: {@code sum_{c in g} correct_c /
     * sum_{c in g} n_c} (on a balanced test set, the mean of the group's per-class accuracies). Groups
     * without classes are left out.
     *
     * @throws IllegalArgumentException when the groups cover another number of classes, or a non-empty
     *                                  group has no example in the data
     */
    public Map<Group, Double> groupAccuracy(ClassGroups groups) {
        Objects.requireNonNull(groups, "groups must not be null");
        if (groups.classes() != counts.length) {
            throw new IllegalArgumentException("groups cover " + groups.classes() + " classes but the confusion matrix has "
                    + counts.length);
        }
        Map<Group, Double> out = new EnumMap<>(Group.class);
        for (Group g : Group.values()) {
            int[] members = groups.members(g);
            if (members.length == 0) {
                continue;
            }
            long correct = 0;
            long total = 0;
            for (int c : members) {
                correct += counts[c][c];
                total += support(c);
            }
            if (total == 0) {
                throw new IllegalArgumentException("group " + g + " has no examples in the evaluation data; its accuracy "
                        + "is undefined");
            }
            out.put(g, correct / (double) total);
        }
        return out;
    }
}
