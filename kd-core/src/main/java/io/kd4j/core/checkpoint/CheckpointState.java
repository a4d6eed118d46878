package io.kd4j.core.checkpoint;

import java.util.Map;
import java.util.Objects;

/**
 * Where a run stood when its checkpoint was written. The data position is
 * ({@code epochsCompleted + 1}, {@code batchesDone}): on resume the trainer replays the data
 * iterator's resets of the completed epochs and skips {@code batchesDone} batches of the current one.
 *
 * @param runFingerprint identifies the run (teacher, student, objective, seed, epochs, data shape); a
 *                       checkpoint of another run is refused
 * @param epochsCompleted epochs fully trained, 0..epochs
 * @param batchesDone batches of epoch {@code epochsCompleted + 1} already consumed (trained or skipped)
 * @param steps optimisation steps taken over the whole run
 * @param skippedBatches batches skipped for non-finite values over the whole run
 * @param finished whether the run completed (its student is final)
 * @param progress the trainer's own bookkeeping (epoch statistics, partial term sums), as text
 */
public record CheckpointState(String runFingerprint, int epochsCompleted, long batchesDone, long steps,
                              long skippedBatches, boolean finished, Map<String, String> progress) {
    public CheckpointState {
        Objects.requireNonNull(runFingerprint, "runFingerprint must not be null");
        if (epochsCompleted < 0 || batchesDone < 0 || steps < 0 || skippedBatches < 0) {
            throw new IllegalArgumentException("checkpoint counters must be >= 0, got epochsCompleted=" + epochsCompleted
                    + ", batchesDone=" + batchesDone + ", steps=" + steps + ", skippedBatches=" + skippedBatches);
        }
        progress = Map.copyOf(progress);
    }
}
