package io.kd4j.core.train;

/** What a distillation run does when a batch produces non-finite values. */
public enum NonFinitePolicy {
    /**
     * Stop the run with a {@link NonFiniteLossException} naming the iteration, the term and the batch,
     * before the bad update is applied. The default: a NaN usually means a bug or a bad setting.
     */
    STOP,
    /**
     * Skip the batch: non-finite teacher outputs or features are never trained on; a non-finite loss
     * term, score or gradient, or non-finite parameters after the update, roll the parameters and the
     * updater state back to before the batch. Each skip is logged and counted. Costs a copy of the
     * parameters and the updater state per iteration.
     */
    SKIP_BATCH
}
