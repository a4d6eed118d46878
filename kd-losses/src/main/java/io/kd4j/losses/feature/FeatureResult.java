package io.kd4j.losses.feature;

import java.util.Map;
import java.util.Objects;

/**
 * A feature loss's value and its gradient with respect to the student features, flattened in the
 * student's row-major ({@code c}) order, with zeros at masked steps; plus named terms.
 */
public record FeatureResult(double value, double[] gradient, Map<String, Double> terms) {
    public FeatureResult {
        Objects.requireNonNull(gradient, "gradient must not be null");
        terms = Map.copyOf(terms);
    }

    public FeatureResult(double value, double[] gradient) {
        this(value, gradient, Map.of());
    }
}
