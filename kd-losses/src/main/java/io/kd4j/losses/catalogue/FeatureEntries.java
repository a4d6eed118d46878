package io.kd4j.losses.catalogue;

import io.kd4j.losses.feature.AttentionTransfer;
import io.kd4j.losses.feature.CorrelationCongruence;
import io.kd4j.losses.feature.CosineEmbedding;
import io.kd4j.losses.feature.Crd;
import io.kd4j.losses.feature.FitNetsHint;
import io.kd4j.losses.feature.Nst;
import io.kd4j.losses.feature.Pkt;
import io.kd4j.losses.feature.RkdAngle;
import io.kd4j.losses.feature.RkdDistance;
import io.kd4j.losses.feature.SimilarityPreserving;
import io.kd4j.losses.feature.TinyBertAttentionMse;
import io.kd4j.losses.feature.TinyBertHiddenMse;
import io.kd4j.losses.feature.Vid;

/** Catalogue entries: feature and relational losses (inputs student_features, teacher_features). */
final class FeatureEntries {
    private FeatureEntries() {
    }

    static void register() {
        LossCatalogue.register("FitNetsHint", "FitNets hint: MSE between adapted student and teacher features",
                FitNetsHint::fromParams);
        LossCatalogue.register("AttentionTransfer", "AT: MSE of L2-normalised spatial attention maps mean_c |f|^p",
                AttentionTransfer::fromParams);
        LossCatalogue.register("SimilarityPreserving", "SP: Frobenius distance of row-normalised batch Gram matrices / B^2",
                SimilarityPreserving::fromParams);
        LossCatalogue.register("RkdDistance", "RKD distance: Huber on mean-normalised pairwise distances",
                RkdDistance::fromParams);
        LossCatalogue.register("RkdAngle", "RKD angle: Huber on cosines of triplet angles",
                RkdAngle::fromParams);
        LossCatalogue.register("Pkt", "PKT: KL between cosine-similarity conditional distributions",
                Pkt::fromParams);
        LossCatalogue.register("CorrelationCongruence", "CC (RepDistiller form): mean of consecutive |s-t| products",
                CorrelationCongruence::fromParams);
        LossCatalogue.register("Nst", "NST: MMD^2 of channel maps with polynomial kernel (x.y)^2",
                Nst::fromParams);
        LossCatalogue.register("Vid", "VID: Gaussian NLL of teacher features, student predicts [mean | variance]",
                Vid::fromParams);
        LossCatalogue.register("CosineEmbedding", "DistilBERT: mean (1 - cos) of hidden states over valid steps",
                CosineEmbedding::fromParams);
        LossCatalogue.register("TinyBertHiddenMse", "TinyBERT hidden-state MSE (after the fit_dense adapter)",
                TinyBertHiddenMse::fromParams);
        LossCatalogue.register("TinyBertAttentionMse", "TinyBERT attention-score MSE, scores <= -100 set to 0",
                TinyBertAttentionMse::fromParams);
        LossCatalogue.register("Crd", "CRD: student-anchored InfoNCE with a bounded FIFO memory of teacher embeddings",
                Crd::fromParams);
    }
}
