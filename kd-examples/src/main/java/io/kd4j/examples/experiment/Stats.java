package io.kd4j.examples.experiment;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Mean and sample standard deviation (n - 1) over seeds. */
public final class Stats {
    private Stats() {
    }

    public static <T> double mean(List<T> xs, ToDoubleFunction<T> f) {
        return xs.stream().mapToDouble(f).average().orElseThrow();
    }

    /** Sample standard deviation; 0 for a single value. */
    public static <T> double std(List<T> xs, ToDoubleFunction<T> f) {
        if (xs.size() < 2) {
            return 0;
        }
        double m = mean(xs, f);
        double ss = xs.stream().mapToDouble(f).map(v -> (v - m) * (v - m)).sum();
        return Math.sqrt(ss / (xs.size() - 1));
    }

    /** {@code mean ± std} of a fraction, in percent with 2 decimals. */
    public static <T> String percent(List<T> xs, ToDoubleFunction<T> f) {
        return String.format(Locale.ROOT, "%.2f ± %.2f", 100 * mean(xs, f), 100 * std(xs, f));
    }
}
