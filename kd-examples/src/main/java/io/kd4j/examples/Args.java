package io.kd4j.examples;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code --key value} command-line flags with defaults; unknown flags are an error listing the valid ones. */
public final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> known = new TreeSet<>();

    private Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected a --flag, got '" + a + "'");
            }
            String key = a.substring(2);
            if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                values.put(key, "true");
            } else {
                values.put(key, args[++i]);
            }
        }
    }

    /** An example's {@code runExample}. */
    @FunctionalInterface
    public interface Example {
        void run(String[] args) throws IOException;
    }

    /**
     * An example's {@code main}: runs it, and turns a bad flag or a missing or corrupt data file into
     * {@code error: <message>} on stderr and exit status 2 instead of a stack trace.
     */
    public static void main(String[] args, Example example) {
        try {
            example.run(args);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        }
    }

    public static Args parse(String[] args) {
        return new Args(args == null ? new String[0] : args);
    }

    public String text(String key, String def) {
        known.add(key);
        return values.getOrDefault(key, def);
    }

    public int integer(String key, int def) {
        String v = text(key, null);
        try {
            return v == null ? def : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be an integer, got '" + v + "'");
        }
    }

    public double real(String key, double def) {
        String v = text(key, null);
        try {
            return v == null ? def : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a number, got '" + v + "'");
        }
    }

    /** The flag's number, or null when it was not given (for defaults that depend on the data). */
    public Double realOrNull(String key) {
        return text(key, null) == null ? null : real(key, Double.NaN);
    }

    public boolean flag(String key) {
        return Boolean.parseBoolean(text(key, "false"));
    }

    /** Rejects flags nobody asked for. */
    public void finish() {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown flag(s) " + unknown + "; valid flags: " + known);
        }
    }
}
