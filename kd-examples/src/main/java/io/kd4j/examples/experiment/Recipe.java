package io.kd4j.examples.experiment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An experiment recipe: a checked-in text file under {@code recipes/NAME.recipe} of {@code key = value}
 * lines ({@code #} starts a comment). Settings (all required): {@code title}, {@code data}
 * ({@code embedded} or a directory), {@code imbalance} (1 = balanced, else the long-tail imbalance
 * ratio of the training set), {@code validation-per-class}, {@code seeds} (comma-separated),
 * {@code teacher-epochs}, {@code student-epochs}, {@code hidden}, {@code batch}. Each
 * {@code run.LABEL = OBJECTIVE} line is one student configuration, in file order; in an objective,
 * {@code ${classCounts}} is replaced by the training set's class counts ({@code 800;479;...}).
 *
 * @param name the recipe's name (file name without {@code .recipe})
 * @param settings the settings
 * @param runs the student configurations in file order
 */
public record Recipe(String name, Map<String, String> settings, List<Run> runs) {
    static final Set<String> KEYS = Set.of("title", "data", "imbalance", "validation-per-class", "seeds",
            "teacher-epochs", "student-epochs", "hidden", "batch");

    /** One student configuration: a label and its objective formula. */
    public record Run(String label, String objective) {
    }

    public Recipe {
        settings = Map.copyOf(settings);
        runs = List.copyOf(runs);
    }

    /** Loads {@code recipes/NAME.recipe} from the class path. */
    public static Recipe load(String name) throws IOException {
        try (InputStream in = Recipe.class.getResourceAsStream("/recipes/" + name + ".recipe")) {
            if (in == null) {
                throw new IllegalArgumentException("no recipe named '" + name + "'; recipes: " + RECIPES);
            }
            return parse(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** The checked-in recipes. */
    public static final List<String> RECIPES = List.of("fmnist-balanced", "fmnist-lt100", "fmnist-lt10");

    public static Recipe parse(String name, String text) {
        Map<String, String> settings = new LinkedHashMap<>();
        List<Run> runs = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("recipe " + name + ", line " + (i + 1) + ": expected key = value, got '"
                        + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (key.startsWith("run.")) {
                runs.add(new Run(key.substring(4).strip(), value));
            } else if (KEYS.contains(key)) {
                settings.put(key, value);
            } else {
                throw new IllegalArgumentException("recipe " + name + ", line " + (i + 1) + ": unknown key '" + key
                        + "'; valid keys: " + new java.util.TreeSet<>(KEYS) + " and run.LABEL");
            }
        }
        for (String k : KEYS) {
            if (!settings.containsKey(k)) {
                throw new IllegalArgumentException("recipe " + name + " must set '" + k + "'");
            }
        }
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("recipe " + name + " has no run.LABEL = OBJECTIVE line");
        }
        return new Recipe(name, settings, runs);
    }

    /** A setting as text. */
    public String text(String key) {
        return settings.get(key);
    }

    /** A setting as an integer. */
    public int integer(String key) {
        try {
            return Integer.parseInt(settings.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("recipe " + name + ": '" + key + "' must be an integer, got '"
                    + settings.get(key) + "'");
        }
    }

    /** A setting as a number. */
    public double real(String key) {
        try {
            return Double.parseDouble(settings.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("recipe " + name + ": '" + key + "' must be a number, got '"
                    + settings.get(key) + "'");
        }
    }
}
