package io.kd4j.losses.catalogue;

/** Catalogue entries: KL relatives: reverse KL, JSD, generalized JSD, TVD, skew KL, top-k sparse. */
final class DivergenceEntries {
    private DivergenceEntries() {
    }

    static void register() {
        // one LossCatalogue.register(name, summary, Class::fromParams) line per loss
    }
}
