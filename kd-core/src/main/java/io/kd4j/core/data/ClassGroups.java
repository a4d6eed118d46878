package io.kd4j.core.data;

import io.kd4j.losses.logit.Ltkd;
import io.kd4j.losses.logit.Ltkd.Group;
import java.util.Arrays;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.stream.IntStream;

/**
 * The head / medium / tail group of each class, as LTKD ({@link Ltkd}) and the per-group metrics use
 * them. Derived from training-set class counts by rank ({@link #byThirds}, the LTKD paper's split) or
 * by count thresholds ({@link #byThresholds}, the many/medium/few-shot split), or given explicitly.
 * Immutable.
 */
public final class ClassGroups {
    private final Group[] groups;

    private ClassGroups(Group[] groups) {
        this.groups = groups;
    }

    /** Explicit groups, one per class. */
    public static ClassGroups of(Group... groups) {
        Objects.requireNonNull(groups, "groups must not be null");
        if (groups.length == 0) {
            throw new IllegalArgumentException("groups must name the group of at least one class");
        }
        for (int c = 0; c < groups.length; c++) {
            Objects.requireNonNull(groups[c], "group of class " + c + " must not be null");
        }
        return new ClassGroups(groups.clone());
    }

    /**
     * By rank, as in the LTKD paper: the floor(C/3) most frequent classes are head, the floor(C/3)
     * least frequent tail, the rest medium (ties by class index). Same rule as {@code Ltkd(grouping=thirds)}.
     */
    public static ClassGroups byThirds(long[] classCounts) {
        return new ClassGroups(Ltkd.groupsByThirds(classCounts));
    }

    /**
     * By thresholds: count &gt; {@code manyShotMin} is head, count &lt; {@code fewShotMax} tail, the
     * rest medium. Same rule as {@code Ltkd(grouping=thresholds)}.
     */
    public static ClassGroups byThresholds(long[] classCounts, int manyShotMin, int fewShotMax) {
        return new ClassGroups(Ltkd.groupsByThresholds(classCounts, manyShotMin, fewShotMax));
    }

    /** Number of classes. */
    public int classes() {
        return groups.length;
    }

    /** The group of class {@code c}. */
    public Group group(int c) {
        return groups[c];
    }

    /** The classes of group {@code g}, ascending (empty when the group has none). */
    public int[] members(Group g) {
        return IntStream.range(0, groups.length).filter(c -> groups[c] == g).toArray();
    }

    /** A copy of the group of every class. */
    public Group[] toArray() {
        return groups.clone();
    }

    /** The {@code classGroups} parameter of {@code Ltkd}: e.g. {@code head;medium;tail}. */
    public String ltkdParameter() {
        StringJoiner j = new StringJoiner(";");
        for (Group g : groups) {
            j.add(g.name().toLowerCase(java.util.Locale.ROOT));
        }
        return j.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassGroups other && Arrays.equals(groups, other.groups);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(groups);
    }

    @Override
    public String toString() {
        StringJoiner j = new StringJoiner(", ");
        for (Group g : Group.values()) {
            j.add(g.name().toLowerCase(java.util.Locale.ROOT) + "=" + Arrays.toString(members(g)));
        }
        return j.toString();
    }
}
