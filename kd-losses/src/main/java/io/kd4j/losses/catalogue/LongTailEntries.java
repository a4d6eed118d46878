package io.kd4j.losses.catalogue;

/** Catalogue entries: LTKD, multi-label KD, regression KD. */
final class LongTailEntries {
    private LongTailEntries() {
    }

    static void register() {
        // one LossCatalogue.register(name, summary, Class::fromParams) line per loss
    }
}
