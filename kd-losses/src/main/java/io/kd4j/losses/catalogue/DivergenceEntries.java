package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.GeneralizedJsd;
import io.kd4j.losses.logit.JensenShannon;
import io.kd4j.losses.logit.ReverseKl;
import io.kd4j.losses.logit.SkewKl;
import io.kd4j.losses.logit.SkewReverseKl;
import io.kd4j.losses.logit.SparseTopKKl;
import io.kd4j.losses.logit.SparseTopKTvd;
import io.kd4j.losses.logit.TotalVariation;

/** Catalogue entries: KL relatives: reverse KL, JSD, generalized JSD, TVD, skew KL, top-k sparse. */
final class DivergenceEntries {
    private DivergenceEntries() {
    }

    static void register() {
        LossCatalogue.register("ReverseKl", "reverse KL(student||teacher) at temperature T, no T^2 (DistiLLM, TRL GKD beta=1)",
                ReverseKl::fromParams);
        LossCatalogue.register("GeneralizedJsd", "TRL/GKD generalized JSD with teacher mixture weight beta, no T^2",
                GeneralizedJsd::fromParams);
        LossCatalogue.register("JensenShannon", "Jensen-Shannon divergence (generalized JSD at beta 0.5), no T^2",
                JensenShannon::fromParams);
        LossCatalogue.register("TotalVariation", "total variation distance 0.5 sum |p - q| (DistiLLM tv_distance), no T^2",
                TotalVariation::fromParams);
        LossCatalogue.register("SkewKl", "DistiLLM skew KL(teacher || skew p + (1-skew) q), no T^2",
                SkewKl::fromParams);
        LossCatalogue.register("SkewReverseKl", "DistiLLM skew reverse KL(student || (1-skew) p + skew q), no T^2",
                SkewReverseKl::fromParams);
        LossCatalogue.register("SparseTopKKl", "forward KL vs a top-k teacher over k+1 bins (DistillKit), x T^2",
                SparseTopKKl::fromParams);
        LossCatalogue.register("SparseTopKTvd", "total variation vs a top-k teacher over k+1 bins (DistillKit), no T^2",
                SparseTopKTvd::fromParams);
    }
}
