package io.kd4j.losses.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A logit loss that is a mean of independent per-row losses: {@code L = (1/n) sum_i l(s_i, t_i, y_i)}.
 * A subclass implements {@link #rowLoss} for one row (value and gradient together); this class does
 * the mean, the gradient scaling and the named terms.
 */
public abstract class RowwiseLogitLoss extends LogitLoss {

    /** Names of the terms {@link #rowLoss} adds into its {@code terms} argument; none by default. */
    protected String[] termNames() {
        return new String[0];
    }

    /**
     * One row's loss.
     *
     * @param rows the rows (read {@code student()}, {@code teacher()}, {@code labels()} at {@code row})
     * @param row the row index
     * @param epoch training progress, 1-based
     * @param grad where to write {@code d l / d s_row} at {@code [off, off + classes)} (zeroed on entry)
     * @param off offset of this row in {@code grad} and in the row arrays ({@code row * classes})
     * @param scratch a work buffer of at least {@code 4 * classes} doubles, reused between rows
     * @param terms accumulator for this row's named term values (length {@code termNames().length})
     * @return the row's loss value
     */
    protected abstract double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off,
                                      double[] scratch, double[] terms);

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        int n = rows.count();
        int c = rows.classes();
        double[] grad = new double[n * c];
        double[] values = new double[n];
        String[] names = termNames();
        double[] termSums = new double[names.length];
        double[] scratch = new double[4 * c + 8];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            values[i] = rowLoss(rows, i, epoch, grad, i * c, scratch, termSums);
            sum += values[i];
        }
        Map<String, Double> terms = new LinkedHashMap<>();
        if (n == 0) {
            for (String name : names) {
                terms.put(name, 0.0);
            }
            return new RowsResult(0.0, grad, values, terms);
        }
        double inv = 1.0 / n;
        for (int i = 0; i < grad.length; i++) {
            grad[i] *= inv;
        }
        for (int k = 0; k < names.length; k++) {
            terms.put(names[k], termSums[k] * inv);
        }
        return new RowsResult(sum * inv, grad, values, terms);
    }
}
