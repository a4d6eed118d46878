package io.kd4j.losses.api;

/** The inputs a loss can read; the names are those of the parity tool's JSON and of docs/losses.md. */
public enum InputKind {
    /** Student logits, {@code [batch, classes]} or {@code [batch, classes, time]}. */
    STUDENT_LOGITS("student_logits"),
    /** Dense teacher logits, same shape as the student's. */
    TEACHER_LOGITS("teacher_logits"),
    /** Hard labels as class indices, {@code [batch]} or {@code [batch, time]}. */
    LABELS("labels"),
    /** Sparse teacher: top-k class indices, logits and the probability mass outside the top-k. */
    TEACHER_TOP_K("teacher_topk_indices"),
    /** Student intermediate features: {@code [batch, features]}, {@code [batch, channels, h, w]} or {@code [batch, size, time]}. */
    STUDENT_FEATURES("student_features"),
    /** Teacher intermediate features at the tapped layer (shape rules per feature loss). */
    TEACHER_FEATURES("teacher_features");

    private final String jsonName;

    InputKind(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The input's name in the parity tool's JSON and in the docs. */
    public String jsonName() {
        return jsonName;
    }
}
