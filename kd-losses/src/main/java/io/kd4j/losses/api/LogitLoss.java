package io.kd4j.losses.api;

/**
 * Base of the logit losses: validation, flattening and masking live in {@link LogitRows}; a subclass
 * implements {@link #evaluate} on the valid rows in double precision.
 */
public abstract class LogitLoss implements DistillationLoss {

    @Override
    public final LossResult compute(LossInput input) {
        LogitRows rows = LogitRows.from(input, requiredInputs(), name());
        RowsResult r = evaluate(rows, input.epoch());
        return new LossResult(r.value(), rows.scatter(r.gradient()), r.terms());
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
