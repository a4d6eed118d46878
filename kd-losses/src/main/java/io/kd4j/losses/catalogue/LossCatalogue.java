package io.kd4j.losses.catalogue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossParams;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;

/**
 * The loss catalogue: every loss reachable by name plus a string-keyed parameter map, with the
 * defaults of the paper's code. Names are matched case-insensitively. Users add their own losses
 * with {@link #register}.
 */
public final class LossCatalogue {

    /** One catalogue entry. */
    public record Entry(String name, String summary, Function<LossParams, ? extends DistillationLoss> factory) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(summary, "summary");
            Objects.requireNonNull(factory, "factory");
        }
    }

    private static final Map<String, Entry> ENTRIES = new ConcurrentSkipListMap<>();

    static {
        BuiltInLosses.registerAll();
    }

    private LossCatalogue() {
    }

    /** Adds a loss to the catalogue; a name already taken (case-insensitively) is an error. */
    public static void register(String name, String summary, Function<LossParams, ? extends DistillationLoss> factory) {
        Entry e = new Entry(name, summary, factory);
        Entry previous = ENTRIES.putIfAbsent(key(name), e);
        if (previous != null) {
            throw new IllegalArgumentException("a loss named '" + previous.name() + "' is already registered");
        }
    }

    /** Creates a loss by name from a parameter map (unknown names or parameters are errors). */
    public static DistillationLoss create(String name, Map<String, ?> params) {
        Entry e = entry(name);
        LossParams p = new LossParams(e.name(), params);
        DistillationLoss loss = e.factory().apply(p);
        p.finish();
        return loss;
    }

    /** Creates a loss by name with its default parameters. */
    public static DistillationLoss create(String name) {
        return create(name, Map.of());
    }

    /** The catalogue entry for a name. */
    public static Entry entry(String name) {
        Objects.requireNonNull(name, "loss name must not be null");
        Entry e = ENTRIES.get(key(name));
        if (e == null) {
            throw new IllegalArgumentException("unknown loss '" + name + "'; valid names: " + names());
        }
        return e;
    }

    /** The catalogue's names, sorted. */
    public static List<String> names() {
        return ENTRIES.values().stream().map(Entry::name).sorted(String.CASE_INSENSITIVE_ORDER).toList();
    }

    private static String key(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }
}
