package io.kd4j.losses.dl4j;

/**
 * The layout of the packed label array that carries the teacher's outputs with each batch into a
 * student output layer whose loss is a {@link DistillationLossFunction}:
 * <pre>
 *   [ hard labels, one-hot (C) | teacher block (W) | epoch (1) ]
 *   dense teacher:            W = C teacher logits
 *   top-k teacher:            W = 2k (k class indices, then k log-probabilities)
 *   M stacked dense teachers: W = M·C (member m's logits in columns C + m·C .. C + (m+1)·C - 1)
 * </pre>
 * A row whose one-hot block is all zeros has no hard label. The last column holds the training
 * progress (1-based epoch) so that schedules and warm-ups see it wherever the batch travels
 * (ParallelWrapper workers, Spark executors). Stacked teachers are how an ensemble's per-teacher
 * losses are averaged: the loss function evaluates each teacher-reading term once per member block.
 *
 * @param classes the number of classes C, &gt;= 1
 * @param topK 0 for a dense teacher, else k in [1, C]
 * @param teachers the number M of stacked teacher blocks, &gt;= 1 (more than 1 only for dense teachers)
 */
public record TargetLayout(int classes, int topK, int teachers) {
    public TargetLayout {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
        if (topK < 0 || topK > classes) {
            throw new IllegalArgumentException("topK must be 0 (dense) or in [1, classes=" + classes + "], got " + topK);
        }
        if (teachers < 1) {
            throw new IllegalArgumentException("teachers must be >= 1, got " + teachers);
        }
        if (teachers > 1 && topK != 0) {
            throw new IllegalArgumentException("stacked teachers (teachers=" + teachers + ") need dense teacher blocks, "
                    + "got topK=" + topK);
        }
    }

    /** Layout of one teacher block (dense, or top-k when {@code topK > 0}). */
    public TargetLayout(int classes, int topK) {
        this(classes, topK, 1);
    }

    /** Layout for a dense teacher. */
    public static TargetLayout dense(int classes) {
        return new TargetLayout(classes, 0, 1);
    }

    /** Layout for {@code teachers} stacked dense teacher blocks (per-teacher loss averaging). */
    public static TargetLayout stacked(int classes, int teachers) {
        return new TargetLayout(classes, 0, teachers);
    }

    /** Width of the teacher block (all members). */
    public int teacherWidth() {
        return teachers * (topK == 0 ? classes : 2 * topK);
    }

    /** Total width of the packed label array. */
    public int width() {
        return classes + teacherWidth() + 1;
    }

    /** Column of the first teacher value. */
    public int teacherOffset() {
        return classes;
    }

    /** Column of the first logit of stacked member {@code m} (dense layouts). */
    public int teacherOffset(int member) {
        if (member < 0 || member >= teachers) {
            throw new IndexOutOfBoundsException("member must be in [0, " + teachers + "), got " + member);
        }
        return classes + member * classes;
    }

    /** Column of the epoch. */
    public int epochColumn() {
        return classes + teacherWidth();
    }
}
