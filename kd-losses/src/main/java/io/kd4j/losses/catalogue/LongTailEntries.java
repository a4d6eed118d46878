package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.LogitAdjustment;
import io.kd4j.losses.logit.Ltkd;
import io.kd4j.losses.logit.MultiLabelKd;
import io.kd4j.losses.logit.RegressionKd;

/** Catalogue entries: LTKD, logit adjustment, multi-label KD, regression KD. */
final class LongTailEntries {
    private LongTailEntries() {
    }

    static void register() {
        LossCatalogue.register("Ltkd", "long-tailed KD: rebalanced cross-group + reweighted within-group KL", Ltkd::fromParams);
        LossCatalogue.register("LogitAdjustment", "logit-adjusted CE (balanced softmax at tau=1): CE(s + tau log prior)",
                LogitAdjustment::fromParams);
        LossCatalogue.register("MultiLabelKd", "multi-label KD: per-class sigmoid Bernoulli KL, x T^2", MultiLabelKd::fromParams);
        LossCatalogue.register("RegressionKd", "regression KD: mean squared error to the teacher's outputs", RegressionKd::fromParams);
    }
}
