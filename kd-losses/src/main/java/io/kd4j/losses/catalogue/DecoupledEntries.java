package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.Dist;
import io.kd4j.losses.logit.Dkd;
import io.kd4j.losses.logit.Nkd;
import io.kd4j.losses.logit.Wsld;

/** Catalogue entries: DKD, NKD, WSLD, DIST and the temperature variants (LS, CIST, CTKD). */
final class DecoupledEntries {
    private DecoupledEntries() {
    }

    static void register() {
        LossCatalogue.register("Dkd", "decoupled KD: alpha TCKD + beta NCKD at T, x T^2, warm-up", Dkd::fromParams);
        LossCatalogue.register("Nkd", "normalized KD: detached-p_y target CE + gamma T^2 non-target CE", Nkd::fromParams);
        LossCatalogue.register("Wsld", "weighted soft labels: T^2 mean w_i CE(p_t, q_s), detached w_i", Wsld::fromParams);
        LossCatalogue.register("Ctkd", "curriculum temperature KD: learnable global T via gradient reversal (stateful)",
                io.kd4j.losses.logit.Ctkd::fromParams);
        LossCatalogue.register("PerSampleTemperatureKl", "KD with a per-sample temperature from the teacher's max-logit gap",
                io.kd4j.losses.logit.PerSampleTemperatureKl::fromParams);
        LossCatalogue.register("Dist", "DIST: tau^2 (beta inter + gamma intra) Pearson relation loss", Dist::fromParams);
    }
}
