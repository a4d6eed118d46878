package io.kd4j.core.metrics;

import java.util.Objects;

/**
 * Teacher–student agreement on the same examples: the fraction whose top-1 classes agree, and the
 * mean forward KL divergence {@code KL(teacher || student) = sum_c p_c (log p_c - log q_c)} at
 * temperature 1 (natural log, nats), {@code p} the teacher's and {@code q} the student's class
 * probabilities. Student probabilities are floored at {@link #PROBABILITY_FLOOR} inside the log
 * (a float32 softmax can underflow to 0, which would make the divergence infinite); terms with
 * {@code p_c = 0} contribute 0.
 *
 * @param top1 fraction of examples with the same top-1 class, in [0, 1]
 * @param meanKl mean over examples of KL(teacher || student), &gt;= 0
 */
public record Agreement(double top1, double meanKl) {
    /** The floor of a student probability inside the log. */
    public static final double PROBABILITY_FLOOR = 1e-12;

    /** Agreement of {@code student} with {@code teacher} (same examples, same order, same classes). */
    public static Agreement of(Predictions teacher, Predictions student) {
        Objects.requireNonNull(teacher, "teacher predictions must not be null");
        Objects.requireNonNull(student, "student predictions must not be null");
        if (teacher.size() != student.size() || teacher.classes() != student.classes()) {
            throw new IllegalArgumentException("teacher and student predictions must cover the same examples and "
                    + "classes, got " + teacher.size() + "x" + teacher.classes() + " and " + student.size() + "x"
                    + student.classes());
        }
        long agree = 0;
        double kl = 0;
        for (int i = 0; i < teacher.size(); i++) {
            if (teacher.label(i) != student.label(i)) {
                throw new IllegalArgumentException("teacher and student predictions must be on the same examples in "
                        + "the same order; labels differ at example " + i);
            }
            if (teacher.predicted(i) == student.predicted(i)) {
                agree++;
            }
            for (int c = 0; c < teacher.classes(); c++) {
                double p = teacher.probability(i, c);
                if (p > 0) {
                    kl += p * (Math.log(p) - Math.log(Math.max(student.probability(i, c), PROBABILITY_FLOOR)));
                }
            }
        }
        return new Agreement(agree / (double) teacher.size(), Math.max(0, kl / teacher.size()));
    }
}
