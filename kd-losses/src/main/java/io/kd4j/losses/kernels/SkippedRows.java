package io.kd4j.losses.kernels;

/**
 * Whether the fused load pass of {@link VectorPairLoad} left the current row out of a
 * {@link VectorRowKernel}'s row buffers {@code t} and {@code s}, because no term of the batch reads them
 * there; {@link #fill} copies both rows from the batch's buffers when a rarer path needs them (a row that
 * falls back to its true maxima, the scan that names a non-finite value).
 *
 * <p>Which terms read the row buffers ({@link #readRows}), when the load pass has computed the pair term's
 * exponentials: forward KL (KD), TVD and the generalized JSD at β = 0 (forward KL) take everything from
 * {@code p}, {@code q} and the load pass's sums, and read neither row. Every other term does: cross-entropy
 * and the generalized JSD at 0 &lt; β &lt; 1 read the student's, the rest both; so does a term that is not
 * the pair term (it takes its own exponentials from both rows) and every standardized term. The load pass
 * copies both rows or neither, one loop-invariant condition in its loop (with one condition per row, KD's
 * kernel measured slower: docs/performance.md).
 */
final class SkippedRows {
    private Batch batch;
    private int row;

    /** Whether a term of {@code b} reads the row buffers when term {@code pair} is the load pass's pair term. */
    static boolean readRows(Batch b, int pair) {
        for (int i = 0; i < b.terms.length; i++) {
            FusedTerm term = b.terms[i];
            // the pair term is never standardized: a standardized term reads both rows as one that is not it
            boolean reads = i != pair || switch (term.kind()) {
                case SOFT_TARGET_KL, TOTAL_VARIATION -> false;
                case GENERALIZED_JSD -> term.teacherMixWeight() != 0;
                default -> true;
            };
            if (reads) {
                return true;
            }
        }
        return false;
    }

    /** Notes that row {@code row} of {@code b} is in the row buffers (null) or was left out of them. */
    void set(Batch b, int row) {
        this.batch = b;
        this.row = row;
    }

    /** Copies the rows left out into {@code t} and {@code s}, once. */
    void fill(float[] t, float[] s) {
        if (batch != null) {
            batch.teacher.read(row, t);
            batch.student.read(row, s);
            batch = null;
        }
    }
}
