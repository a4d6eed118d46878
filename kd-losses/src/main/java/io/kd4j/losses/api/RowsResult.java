package io.kd4j.losses.api;

import java.util.Map;

/**
 * The result of a loss over {@link LogitRows}: the value (mean over rows), the gradient of that
 * value with respect to the student rows ({@code count * classes}), the per-row values when the
 * loss decomposes over rows ({@code null} for batch-coupled losses such as DIST), and named terms.
 */
public record RowsResult(double value, double[] gradient, double[] rowValues, Map<String, Double> terms) {
    public RowsResult {
        terms = Map.copyOf(terms);
    }
}
