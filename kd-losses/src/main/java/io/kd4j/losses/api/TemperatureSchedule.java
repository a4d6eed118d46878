package io.kd4j.losses.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A temperature as a function of training progress, for any temperature-taking loss.
 *
 * <p>With progress {@code p = clamp((epoch - 1) / epochs, 0, 1)} (epoch is 1-based):
 * <ul>
 *   <li>{@code constant}: {@code T(p) = start}</li>
 *   <li>{@code linear}: {@code T(p) = start + (end - start) p}</li>
 *   <li>{@code cosine}: {@code T(p) = end + (start - end) (1 + cos(pi p)) / 2}</li>
 * </ul>
 * Catalogue parameters: {@code temperature} (start, &gt; 0), {@code temperatureSchedule}
 * ({@code constant} by default), {@code temperatureEnd} (&gt; 0, required for linear/cosine) and
 * {@code temperatureEpochs} (&gt; 0, the length of the ramp in epochs).
 *
 * @param kind constant, linear or cosine
 * @param start temperature at the start, &gt; 0
 * @param end temperature at the end of the ramp, &gt; 0 (equal to start when constant)
 * @param epochs length of the ramp in epochs, &gt; 0
 */
public record TemperatureSchedule(Kind kind, double start, double end, double epochs) {

    /** The schedule's shape. */
    public enum Kind { CONSTANT, LINEAR, COSINE }

    public TemperatureSchedule {
        if (kind == null) {
            throw new IllegalArgumentException("temperatureSchedule must not be null");
        }
        Checks.positive("temperature", start);
        Checks.positive("temperatureEnd", end);
        Checks.positive("temperatureEpochs", epochs);
    }

    /** A constant temperature. */
    public static TemperatureSchedule constant(double temperature) {
        return new TemperatureSchedule(Kind.CONSTANT, temperature, temperature, 1.0);
    }

    /** The temperature at a training progress (1-based epochs). */
    public double at(double epoch) {
        if (kind == Kind.CONSTANT) {
            return start;
        }
        double p = Math.min(1.0, Math.max(0.0, (epoch - 1.0) / epochs));
        return kind == Kind.LINEAR ? start + (end - start) * p : end + (start - end) * (1 + Math.cos(Math.PI * p)) / 2;
    }

    /** Reads the schedule parameters from a catalogue parameter map. */
    public static TemperatureSchedule fromParams(LossParams p, double defaultTemperature) {
        double start = p.real("temperature", defaultTemperature);
        String kindName = p.text("temperatureSchedule", "constant");
        Kind kind;
        try {
            kind = Kind.valueOf(kindName.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("temperatureSchedule must be one of [constant, linear, cosine], got '"
                    + kindName + "'");
        }
        double end = p.real("temperatureEnd", start);
        double epochs = p.real("temperatureEpochs", 1.0);
        return new TemperatureSchedule(kind, start, end, epochs);
    }

    /** Hyperparameters as the catalogue names them (only the start for a constant). */
    public Map<String, Object> asParams() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("temperature", start);
        if (kind != Kind.CONSTANT) {
            m.put("temperatureSchedule", kind.name().toLowerCase(java.util.Locale.ROOT));
            m.put("temperatureEnd", end);
            m.put("temperatureEpochs", epochs);
        }
        return m;
    }
}
