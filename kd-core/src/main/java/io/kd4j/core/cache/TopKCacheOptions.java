package io.kd4j.core.cache;

/**
 * Settings of a top-k teacher cache.
 *
 * @param k classes kept per example, &gt;= 1 (32 is typical for large vocabularies)
 * @param float16 store the log-probabilities as float16 (2 bytes, rounded toward -inf so the stored
 *     top-k mass never exceeds 1) instead of float32 (4 bytes)
 * @param temperature the temperature of the stored teacher distribution {@code log_softmax(t / T)},
 *     &gt; 0 (1 = the teacher's own distribution; give it to the sparse losses as {@code teacherTemperature})
 */
public record TopKCacheOptions(int k, boolean float16, double temperature) {
    public TopKCacheOptions {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite, got " + temperature);
        }
    }

    /** Top-k with float32 values at temperature 1. */
    public static TopKCacheOptions of(int k) {
        return new TopKCacheOptions(k, false, 1.0);
    }

    /** The same settings with float16 values. */
    public TopKCacheOptions withFloat16() {
        return new TopKCacheOptions(k, true, temperature);
    }
}
