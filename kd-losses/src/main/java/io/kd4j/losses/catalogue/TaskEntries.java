package io.kd4j.losses.catalogue;

import io.kd4j.losses.logit.GaussianKl;
import io.kd4j.losses.logit.GaussianNll;
import io.kd4j.losses.logit.ListwiseKl;
import io.kd4j.losses.logit.MarginMse;

/** Catalogue entries: tasks beyond single-label classification: ranking and Gaussian (uncertainty) KD. */
final class TaskEntries {
    private TaskEntries() {
    }

    static void register() {
        LossCatalogue.register("MarginMse", "ranking KD: MSE between student and teacher (positive - negative) score margins",
                MarginMse::fromParams);
        LossCatalogue.register("ListwiseKl", "ranking KD: KL(teacher||student) of softmaxed candidate-list scores at T, x T^2",
                ListwiseKl::fromParams);
        LossCatalogue.register("GaussianNll", "uncertainty KD: expected Gaussian NLL of the student [mean|log-var] under the teacher N(mean, var)",
                GaussianNll::fromParams);
        LossCatalogue.register("GaussianKl", "uncertainty KD: KL(N(teacher mean, var) || N(student mean, exp log-var)) per dimension",
                GaussianKl::fromParams);
    }
}
