package io.kd4j.core.cache;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One batch whose teacher logits were computed elsewhere (another thread, a Spark executor), on its
 * way to the single cache writer: the features (the cache stores their per-example hashes), the
 * optional features mask and the logits {@code [batch, classes]}.
 *
 * @param features the batch's features, {@code [batch, ...]}
 * @param featuresMask the features mask, or {@code null}
 * @param logits the teacher's logits for these features, {@code [batch, classes]}
 */
public record ComputedLogits(INDArray features, INDArray featuresMask, INDArray logits) {
    public ComputedLogits {
        Objects.requireNonNull(features, "features must not be null");
        Objects.requireNonNull(logits, "logits must not be null");
        if (logits.rank() != 2 || logits.size(0) != features.size(0)) {
            throw new IllegalArgumentException("logits must be [batch=" + features.size(0) + ", classes], got "
                    + Arrays.toString(logits.shape()));
        }
    }
}
