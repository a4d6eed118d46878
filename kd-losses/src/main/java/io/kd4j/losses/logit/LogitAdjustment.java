package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowwiseLogitLoss;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Logit-adjusted cross-entropy, the standard long-tail baseline of A. K. Menon et al., "Long-tail
 * learning via logit adjustment", ICLR 2021 (their eq. 10); with {@code tau = 1} it is exactly the
 * balanced softmax of J. Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
 * NeurIPS 2020. With class priors {@code pi_c = n_c / sum_k n_k} from the training-set counts:
 * <pre>
 *   L = mean_i [ -log softmax(s_i + tau log pi)[y_i] ]
 *   dL/ds_i = (softmax(s_i + tau log pi) - onehot(y_i)) / n
 * </pre>
 * The adjustment exists only in the loss: at test time the plain logits {@code s} are used, so the
 * head classes' prior no longer inflates their scores. {@code tau = 0} is plain {@link CrossEntropy}.
 *
 * <p>Catalogue name {@code LogitAdjustment}; parameters: {@code classCounts} (required; training-set
 * examples per class, semicolon-separated integers &gt; 0, e.g. {@code 500;120;7}), {@code tau} &gt;= 0
 * (1.0, the paper's default). Inputs: {@code student_logits}, {@code labels}.
 */
public final class LogitAdjustment extends RowwiseLogitLoss {
    private final long[] classCounts;
    private final double tau;
    private final double[] adjustment;

    /**
     * @param classCounts training-set examples per class, each &gt; 0
     * @param tau scaling of the log-prior, &gt;= 0 (1.0 = balanced softmax)
     */
    public LogitAdjustment(long[] classCounts, double tau) {
        Objects.requireNonNull(classCounts, "classCounts must not be null");
        if (classCounts.length == 0) {
            throw new IllegalArgumentException("classCounts must have one entry per class, got none");
        }
        double total = 0;
        for (int c = 0; c < classCounts.length; c++) {
            if (classCounts[c] <= 0) {
                throw new IllegalArgumentException("classCounts must be > 0 (log prior), got " + classCounts[c]
                        + " at class " + c);
            }
            total += classCounts[c];
        }
        this.tau = Checks.nonNegative("tau", tau);
        this.classCounts = classCounts.clone();
        this.adjustment = new double[classCounts.length];
        for (int c = 0; c < classCounts.length; c++) {
            adjustment[c] = tau * Math.log(classCounts[c] / total);
        }
    }

    public static LogitAdjustment fromParams(LossParams p) {
        String counts = p.text("classCounts", null);
        double tau = p.real("tau", 1.0);
        if (counts == null) {
            throw new IllegalArgumentException("LogitAdjustment: classCounts is required (training-set examples per "
                    + "class, e.g. 500;120;7)");
        }
        String[] parts = counts.split(";", -1);
        long[] c = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                c[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("classCounts must be semicolon-separated integers, got '" + counts
                        + "' (entry " + i + ": '" + parts[i] + "')");
            }
        }
        return new LogitAdjustment(c, tau);
    }

    @Override
    protected double rowLoss(LogitRows rows, int row, double epoch, double[] grad, int off, double[] scratch,
                             double[] terms) {
        int c = rows.classes();
        if (c != classCounts.length) {
            throw new IllegalArgumentException(name() + ": classCounts has " + classCounts.length
                    + " entries but the logits have " + c + " classes");
        }
        double[] s = rows.student();
        int y = rows.labels()[row];
        for (int j = 0; j < c; j++) {
            scratch[c + j] = s[off + j] + adjustment[j];
        }
        LogitMath.logSoftmax(scratch, c, c, 1.0, scratch, 0);
        for (int j = 0; j < c; j++) {
            grad[off + j] = Math.exp(scratch[j]) - (j == y ? 1.0 : 0.0);
        }
        return -scratch[y];
    }

    @Override
    public String name() {
        return "LogitAdjustment";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        StringBuilder b = new StringBuilder();
        for (long n : classCounts) {
            b.append(b.length() > 0 ? ";" : "").append(n);
        }
        m.put("classCounts", b.toString());
        m.put("tau", tau);
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.LABELS);
    }
}
