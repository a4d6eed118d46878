package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Margin-MSE ranking distillation (Hofstätter, Althammer, Schröder, Sertkan and Hanbury, "Improving
 * Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation", arXiv 2010.02666,
 * 2020): the student matches the teacher's score <em>margins</em> between a positive and a negative
 * candidate, not the scores themselves.
 *
 * <p>Input layout: each row is one query's candidate list of scores, column 0 the positive and
 * columns {@code 1..C-1} the negatives ({@code C >= 2}); student and teacher rows alike:
 * <pre>
 *   d_ij = (s_i0 - s_ij) - (t_i0 - t_ij),   j = 1..C-1
 *   L    = mean_i (1/(C-1)) sum_j d_ij²
 *   dL/ds_i0 =  2/(n (C-1)) sum_j d_ij,   dL/ds_ij = -2 d_ij / (n (C-1))
 * </pre>
 * With {@code C = 2} this is the paper's loss, {@code MSE(M_s(q,p+) - M_s(q,p-), M_t(q,p+) - M_t(q,p-))}
 * with a batch mean. Reference convention for {@code C > 2}: sentence-transformers {@code MarginMSELoss}
 * with several negatives ({@code margin_pred = stack([pos - neg_j])}, {@code nn.MSELoss()} mean over
 * batch × negatives, labels = the teacher's margins): the same value. No temperature. The loss depends
 * only on differences within a row, so adding a constant to a row changes nothing and each gradient row
 * sums to 0.
 *
 * <p>Catalogue name {@code MarginMse}; no parameters. Inputs: {@code student_logits},
 * {@code teacher_logits} (the scores, {@code [queries, 1 + negatives]}).
 */
public final class MarginMse extends RowwiseLogitLoss {

    public MarginMse() {
    }

    public static MarginMse fromParams(LossParams p) {
        return new MarginMse();
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        if (rows.classes() < 2) {
            throw new IllegalArgumentException("MarginMse: each row needs a positive and at least one negative "
                    + "score (columns >= 2), got " + rows.classes());
        }
        return super.evaluate(rows, epoch);
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double[] s = rows.student();
        double[] t = rows.teacher();
        double scale = 1.0 / (c - 1);
        double sum = 0;
        double g0 = 0;
        for (int j = 1; j < c; j++) {
            double d = (s[off] - s[off + j]) - (t[off] - t[off + j]);
            sum += d * d;
            g0 += d;
            grad[off + j] = -2.0 * d * scale;
        }
        grad[off] = 2.0 * g0 * scale;
        return sum * scale;
    }

    @Override
    public String name() {
        return "MarginMse";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return Map.of();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }

    @Override
    public String describe() {
        return "MarginMse";
    }
}
