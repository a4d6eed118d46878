package io.kd4j.losses.kernels;

/**
 * What one fused evaluation reads and writes, shared by the row kernels of all threads (read-only).
 */
final class Batch {
    final DenseRows student;
    /** Dense teacher logits ({@code rows × classes}), a top-k teacher ({@code rows × 2k}), or null. */
    final DenseRows teacher;
    final DenseRows grad;
    final double gradScale;
    final FusedTerm[] terms;
    /** Index of each term's value in a row's value array; its parts follow it. */
    final int[] slot;
    /** Per term: LTKD's log rebalancing factors {@code log w_g} (null for other terms, or without rebalancing). */
    final double[][] logRebalance;
    final int classes;
    /** k of a top-k teacher, 0 for a dense one. */
    final int topK;

    Batch(DenseRows student, DenseRows teacher, DenseRows grad, double gradScale, FusedTerm[] terms, int[] slot,
          double[][] logRebalance, int topK) {
        this.student = student;
        this.teacher = teacher;
        this.grad = grad;
        this.gradScale = gradScale;
        this.terms = terms;
        this.slot = slot;
        this.logRebalance = logRebalance;
        this.classes = student.width();
        this.topK = topK;
    }

    boolean denseTeacher() {
        return teacher != null && topK == 0;
    }
}
