package io.kd4j.losses.api;

import java.util.Map;

/**
 * Base of the logit losses: validation, flattening and masking live in {@link LogitRows}; a subclass
 * implements {@link #evaluate} on the valid rows in double precision.
 */
public abstract class LogitLoss implements DistillationLoss {

    @Override
    public final LossResult compute(LossInput input) {
        LogitRows rows = LogitRows.from(input, requiredInputs(), name());
        RowsResult r = evaluate(rows, input.epoch());
        requireFinite(r, rows);
        return new LossResult(r.value(), rows.scatter(r.gradient()), r.terms());
    }

    /**
     * The inputs were validated finite, so a non-finite value, gradient or term here means the
     * computation overflowed for these hyperparameters (e.g. a temperature so small that
     * {@code logits / T} is infinite, or so large that {@code T²} is): an error, never a silent NaN.
     */
    private void requireFinite(RowsResult r, LogitRows rows) {
        String what = null;
        if (!Double.isFinite(r.value())) {
            what = "value " + r.value();
        }
        double[] g = r.gradient();
        for (int i = 0; what == null && i < g.length; i++) {
            if (!Double.isFinite(g[i])) {
                what = "gradient " + g[i] + " at row " + rows.position(i / rows.classes()) + ", class "
                        + (i % rows.classes());
            }
        }
        for (Map.Entry<String, Double> t : r.terms().entrySet()) {
            if (what == null && !Double.isFinite(t.getValue())) {
                what = "term " + t.getKey() + " = " + t.getValue();
            }
        }
        if (what != null) {
            throw new IllegalArgumentException(describe() + ": non-finite " + what + " from finite inputs (largest |logit| "
                    + maxAbs(rows) + "): the computation overflows for these hyperparameters; use a temperature "
                    + "of moderate size (e.g. 0.1 to 100) or smaller logits");
        }
    }

    private static double maxAbs(LogitRows rows) {
        double m = 0;
        for (double v : rows.student()) {
            m = Math.max(m, Math.abs(v));
        }
        if (rows.teacher() != null) {
            for (double v : rows.teacher()) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    /**
     * Value (mean over the valid rows; 0 when there are none) and its gradient with respect to
     * {@code rows.student()}.
     *
     * @param epoch training progress, 1-based (see {@link LossInput#epoch()})
     */
    public abstract RowsResult evaluate(LogitRows rows, double epoch);

    @Override
    public String toString() {
        return describe();
    }
}
