package io.kd4j.losses.logit;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.RowwiseLogitLoss;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Listwise KL ranking distillation: each row is one query's list of candidate scores; the scores are
 * turned into a distribution over the list by a softmax and the student matches the teacher's:
 * <pre>
 *   p_i = softmax(t_i / T),  q_i = softmax(s_i / T)      (over the C candidates of query i)
 *   L   = T² · mean_i sum_j p_ij (log p_ij - log q_ij)
 *   dL/ds_i = T (q_i - p_i) / n
 * </pre>
 * Reference conventions: sentence-transformers {@code DistillKLDivLoss} (Lin, Yang and Lin,
 * "Distilling Dense Representations for Ranking using Tightly-Coupled Teachers", 2020):
 * {@code KLDivLoss(reduction="batchmean")(log_softmax(s/T), softmax(t/T)) * T**2}, temperature 1 by
 * default; ColBERTv2 (Santhanam et al., NAACL 2022) distils cross-encoder scores with
 * {@code KLDivLoss(reduction="batchmean", log_target=True)} on log-softmaxed scores, no temperature,
 * which is this loss at {@code T = 1}. Mathematically it is {@link SoftTargetKl} on candidate lists
 * instead of classes (tested to agree); it has its own name so that ranking objectives read as such
 * and so that the default temperature is the ranking one (1, not 4).
 *
 * <p>Lists have a fixed length C (the columns); pad nothing: a shorter list must be completed with
 * real negatives, as the reference code requires ({@code torch.stack} of equal-length score lists).
 * Catalogue name {@code ListwiseKl}; parameters: {@code temperature} &gt; 0, default 1.0, and the
 * schedule keys of {@link TemperatureSchedule}. Inputs: {@code student_logits}, {@code teacher_logits}
 * (the scores, {@code [queries, candidates]}, {@code candidates >= 2}).
 */
public final class ListwiseKl extends RowwiseLogitLoss {
    private final TemperatureSchedule temperature;

    public ListwiseKl(TemperatureSchedule temperature) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
    }

    /** Listwise KL at a constant temperature. */
    public static ListwiseKl withTemperature(double temperature) {
        return new ListwiseKl(TemperatureSchedule.constant(temperature));
    }

    public static ListwiseKl fromParams(LossParams p) {
        return new ListwiseKl(TemperatureSchedule.fromParams(p, 1.0));
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        if (rows.classes() < 2) {
            throw new IllegalArgumentException("ListwiseKl: each candidate list needs at least 2 scores (columns >= 2), "
                    + "got " + rows.classes());
        }
        return super.evaluate(rows, epoch);
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        double tau = temperature.at(epoch);
        LogitMath.logSoftmax(rows.teacher(), off, c, tau, scratch, 0);
        LogitMath.logSoftmax(rows.student(), off, c, tau, scratch, c);
        double kl = 0;
        for (int j = 0; j < c; j++) {
            double logP = scratch[j];
            double p = Math.exp(logP);
            kl += p * (logP - scratch[c + j]);
            grad[off + j] = tau * (Math.exp(scratch[c + j]) - p);
        }
        return tau * tau * kl;
    }

    @Override
    public String name() {
        return "ListwiseKl";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return temperature.asParams();
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
