package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;

/**
 * The row of a batch that the fused load pass of {@link VectorPairLoad} read last, and whether it copied
 * it into a {@link VectorRowKernel}'s row buffers {@code t} and {@code s}. It copies them only when a term
 * of the batch reads them there ({@link #readRows}); {@link #fill} copies them from the batch's buffers
 * when a rarer path needs them (a row that falls back to its true maxima, the scan that names a
 * non-finite value).
 *
 * <p>Which terms read the row buffers, when the load pass has computed the pair term's exponentials:
 * forward KL (KD) and TVD take everything from {@code p}, {@code q} and the load pass's sums, and read
 * neither row; the generalized JSD at β &lt; 1 reads the student's logits from the batch's own buffer
 * ({@link #student}), since it is the pair term only on off-heap rows; LTKD reads both rows only in the
 * blocks whose classes lie in more than one group, from the batch's buffers too ({@link #teacher}), and
 * calls {@link #fill} before its rarer paths (a group too small for the shared shift). DKD reads its
 * target's two logits from the batch's buffers ({@link #studentLogit}, {@link #teacherLogit}), and the
 * load pass its target's block of classes (to take the target out of that block's sums); without the
 * rows it bounds the other classes' maxima by the rows' maxima, so a row whose target logit lies far
 * above its guessed shift (more than 64 T) takes the fallback with its true maxima, for which it is
 * copied. A cross-entropy beside KD or DKD that takes its exponentials as powers of theirs
 * ({@link VectorCrossEntropyTerm#fromPowers}: Hinton's objective, or mdistiller's DKD recipe, at an
 * integer temperature) reads only its label's logit, from the batch's buffer, and with label smoothing
 * the row's {@code Σ s}, which the load pass adds up for it; it calls {@link #fill} before its own
 * exponentials when it cannot take the powers. Every other term
 * reads the row buffers: reverse KL (and the JSD at β = 1) and the rest read both, cross-entropy the
 * student's; so does a term that is not the pair term (it takes its own exponentials from both rows) and
 * every standardized term. Storing both rows into the row buffers costs about as much as reading them
 * from memory (docs/performance-log.md, "Kernel CPU time", eighth round). The load pass copies both rows or
 * neither, one loop-invariant condition in its loop (with one condition per row, KD's kernel measured
 * slower: docs/performance.md).
 */
final class LoadedRows {
    private Batch batch;
    private int row;
    private boolean copied;

    /** Whether a term of {@code b} reads the row buffers when term {@code pair} is the load pass's pair term. */
    static boolean readRows(Batch b, int pair) {
        for (int i = 0; i < b.terms.length; i++) {
            FusedTerm term = b.terms[i];
            // the pair term is never standardized: a standardized term reads both rows as one that is not it
            boolean reads = i != pair ? !takesPowersOnly(b, pair, term) : switch (term.kind()) {
                case SOFT_TARGET_KL, REVERSE_KL, GENERALIZED_JSD, TOTAL_VARIATION, LTKD, DKD, SPARSE_TOP_K_KL,
                     SPARSE_TOP_K_TVD -> false;
                default -> true;
            };
            if (reads) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code term}, not the pair term, is a cross-entropy that takes its exponentials as powers of the
     * pair term's, KD's or DKD's ({@link VectorCrossEntropyTerm#companionPower}): it reads only its label's
     * logit, and with label smoothing the row's {@code Σ s}, which the load pass adds up
     * ({@link #powersWithSmoothing}).
     */
    private static boolean takesPowersOnly(Batch b, int pair, FusedTerm term) {
        return term.kind() == FusedTerm.Kind.CROSS_ENTROPY && VectorCrossEntropyTerm.companionPower(b, pair) > 0;
    }

    /**
     * Whether the load pass with pair term {@code pair} adds up the student's logits for a cross-entropy with
     * label smoothing that takes its exponentials as powers of the pair term's.
     */
    static boolean powersWithSmoothing(Batch b, int pair) {
        if (VectorCrossEntropyTerm.companionPower(b, pair) == 0) {
            return false;
        }
        for (FusedTerm term : b.terms) {
            if (term.kind() == FusedTerm.Kind.CROSS_ENTROPY && term.labelSmoothing() > 0) {
                return true;
            }
        }
        return false;
    }

    /** Notes that the load pass read row {@code row} of {@code b} (null: none), and whether it copied it. */
    void set(Batch b, int row, boolean copied) {
        this.batch = b;
        this.row = row;
        this.copied = copied;
    }

    /** Copies the rows into {@code t} and {@code s} if the load pass did not. */
    void fill(float[] t, float[] s) {
        if (!copied && batch != null) {
            batch.teacher.read(row, t);
            batch.student.read(row, s);
            copied = true;
        }
    }

    /**
     * Copies the student's row into {@code s} if the load pass did not: the top-k student's pass
     * ({@link VectorSingleLoad#loadStudent}), whose teacher is no dense row, notes its batch here too.
     */
    void fillStudent(float[] s) {
        if (!copied && batch != null) {
            batch.student.read(row, s);
            copied = true;
        }
    }

    /**
     * The student's logit at class {@code j} of the row: from the row buffer {@code s} when it holds the row
     * ({@link #copied}, or no batch noted: a row the load pass did not read), else from the batch's buffer.
     */
    float studentLogit(float[] s, int j) {
        return copied || batch == null ? s[j] : student().getFloat(4 * (studentAt() + j));
    }

    /** {@link #studentLogit} for the teacher's logit, from the row buffer {@code t} or the batch's buffer. */
    float teacherLogit(float[] t, int j) {
        return copied || batch == null ? t[j] : teacher().getFloat(4 * (teacherAt() + j));
    }

    /** Whether the load pass, or {@link #fill}, copied the row into the row buffers. */
    boolean copied() {
        return copied;
    }

    /** The off-heap buffer of the teacher's logits of the row the load pass read. */
    ByteBuffer teacher() {
        return batch.teacher.bytes();
    }

    /** Where that row starts in {@link #teacher()}, in floats. */
    int teacherAt() {
        return batch.teacher.start(row);
    }

    /** The off-heap buffer of the student's logits of the row the load pass read. */
    ByteBuffer student() {
        return batch.student.bytes();
    }

    /** Where that row starts in {@link #student()}, in floats. */
    int studentAt() {
        return batch.student.start(row);
    }
}
