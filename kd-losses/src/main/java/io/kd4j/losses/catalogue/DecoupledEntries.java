package io.kd4j.losses.catalogue;

/** Catalogue entries: DKD, NKD, WSLD, DIST and the temperature variants (LS, CIST, CTKD). */
final class DecoupledEntries {
    private DecoupledEntries() {
    }

    static void register() {
        // one LossCatalogue.register(name, summary, Class::fromParams) line per loss
    }
}
