package io.kd4j.losses.api;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A string-keyed parameter map (the form recipe files, the command line and the parity tool use),
 * read by a loss's factory. Every key read is remembered, so that {@link #finish()} can reject a
 * key the loss does not know and list the valid ones.
 */
public final class LossParams {
    private final String lossName;
    private final Map<String, String> raw;
    private final Set<String> known = new LinkedHashSet<>();

    public LossParams(String lossName, Map<String, ?> raw) {
        this.lossName = lossName;
        this.raw = new LinkedHashMap<>();
        if (raw != null) {
            raw.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException(lossName + ": parameter names and values must not be null, got "
                            + k + "=" + v);
                }
                this.raw.put(k, String.valueOf(v));
            });
        }
    }

    /** A real-valued parameter. */
    public double real(String key, double defaultValue) {
        known.add(key);
        String v = raw.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(lossName + ": parameter '" + key + "' must be a number, got '" + v + "'");
        }
    }

    /** An integer parameter. */
    public int integer(String key, int defaultValue) {
        known.add(key);
        String v = raw.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (int) d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(lossName + ": parameter '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    /** A boolean parameter ({@code true}/{@code false}). */
    public boolean flag(String key, boolean defaultValue) {
        known.add(key);
        String v = raw.get(key);
        if (v == null) {
            return defaultValue;
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(lossName + ": parameter '" + key + "' must be true or false, got '" + v + "'");
    }

    /** A text parameter. */
    public String text(String key, String defaultValue) {
        known.add(key);
        String v = raw.get(key);
        return v == null ? defaultValue : v;
    }

    /** Whether the map holds {@code key} (marks it as known). */
    public boolean has(String key) {
        known.add(key);
        return raw.containsKey(key);
    }

    /** Rejects keys that no read asked for, listing the valid ones. */
    public void finish() {
        Set<String> unknown = new TreeSet<>(raw.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown parameter" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + " for loss " + lossName + "; valid parameters: " + known);
        }
    }
}
