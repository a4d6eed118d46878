package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.Ltkd;

/** Catalogue entries: LTKD, multi-label KD, regression KD. */
final class LongTailEntries {
    private LongTailEntries() {
    }

    static void register() {
        LossCatalogue.register("Ltkd", "long-tailed KD: rebalanced cross-group + reweighted within-group KL", Ltkd::fromParams);
    }
}
