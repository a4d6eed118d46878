package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.CrossEntropy;
import io.kd4j.losses.logit.SoftTargetKl;

/** Registers the built-in losses of the catalogue (one line each). */
final class BuiltInLosses {
    private BuiltInLosses() {
    }

    static void registerAll() {
        LossCatalogue.register("CrossEntropy", "hard-label cross-entropy (optional label smoothing)",
                CrossEntropy::fromParams);
        LossCatalogue.register("SoftTargetKl", "Hinton KD: KL(teacher||student) at temperature T, x T^2",
                SoftTargetKl::fromParams);
        DivergenceEntries.register();
        DecoupledEntries.register();
        LongTailEntries.register();
        TaskEntries.register();
        FeatureEntries.register();
    }
}
