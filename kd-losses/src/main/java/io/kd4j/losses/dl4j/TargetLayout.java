package io.kd4j.losses.dl4j;

/**
 * The layout of the packed label array that carries the teacher's outputs with each batch into a
 * student output layer whose loss is a {@link DistillationLossFunction}:
 * <pre>
 *   [ hard labels, one-hot (C) | teacher block (W) | epoch (1) ]
 *   dense teacher: W = C teacher logits
 *   top-k teacher: W = 2k (k class indices, then k log-probabilities)
 * </pre>
 * A row whose one-hot block is all zeros has no hard label. The last column holds the training
 * progress (1-based epoch) so that schedules and warm-ups see it wherever the batch travels
 * (ParallelWrapper workers, Spark executors).
 *
 * @param classes the number of classes C, &gt;= 1
 * @param topK 0 for a dense teacher, else k in [1, C]
 */
public record TargetLayout(int classes, int topK) {
    public TargetLayout {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
        if (topK < 0 || topK > classes) {
            throw new IllegalArgumentException("topK must be 0 (dense) or in [1, classes=" + classes + "], got " + topK);
        }
    }

    /** Layout for a dense teacher. */
    public static TargetLayout dense(int classes) {
        return new TargetLayout(classes, 0);
    }

    /** Width of the teacher block. */
    public int teacherWidth() {
        return topK == 0 ? classes : 2 * topK;
    }

    /** Total width of the packed label array. */
    public int width() {
        return classes + teacherWidth() + 1;
    }

    /** Column of the first teacher value. */
    public int teacherOffset() {
        return classes;
    }

    /** Column of the epoch. */
    public int epochColumn() {
        return classes + teacherWidth();
    }
}
