package io.kd4j.losses.feature;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.LossParams;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Contrastive representation distillation (CRD), student-anchored InfoNCE with a bounded memory of
 * teacher embeddings:
 * <pre>
 *   ŝ_i = s_i / max(‖s_i‖, 1e-12),  t̂_j likewise,  m_k = remembered t̂ of earlier steps
 *   z_i = [ŝ_i·t̂_i, ŝ_i·t̂_j (j ≠ i), ŝ_i·m_k] / τ
 *   L   = (1/B) Σ_i (logsumexp(z_i) − z_i[0])
 * </pre>
 * The positive of each student embedding is its own teacher embedding; the negatives are the other
 * teacher embeddings of the batch and the memory.
 *
 * <p><b>Memory bound.</b> The memory is a first-in-first-out ring of at most {@code memorySize}
 * teacher embeddings of width {@code D}: {@code memorySize × D} doubles (8·memorySize·D bytes,
 * e.g. 4096 × 128 → 4 MiB), independent of the size of the data set. {@link #afterStep} appends the
 * batch's normalised teacher embeddings once per training step (kd-core calls it after the gradient);
 * {@link #compute} and {@link #evaluate} only read it, so they are pure functions of the input and the
 * memory. The memory makes this loss the catalogue's only stateful one: it is thread-safe, and one
 * instance belongs to one training run.
 *
 * <p>Paper: Tian, Krishnan &amp; Isola, "Contrastive Representation Distillation", ICLR 2020.
 * Reference convention: RepDistiller {@code crd/criterion.py} + {@code crd/memory.py}: embeddings
 * through {@code Embed} (linear + L2 normalisation: kd-core's dense adapter, then the normalisation
 * here), temperature {@code nce_t = 0.07}. <b>Deviations:</b> RepDistiller keeps a momentum-updated
 * bank of one entry per training example (grows with the data set: 2 × N × 128 floats) and scores
 * {@code nce_k = 16384} sampled negatives with an NCE binary objective in both directions; here the
 * bank is a bounded FIFO of recent teacher embeddings (MoCo-style) and the objective is the softmax
 * (InfoNCE) form that the CRD paper derives as its "CRD (softmax)" variant, student-anchored only (the
 * teacher-anchored half has no gradient into the student except through the positive).
 *
 * <p>Parameters: {@code temperature} τ (default 0.07, {@code > 0}); {@code memorySize} (default 4096,
 * in [0, 1 000 000]; 0 = in-batch negatives only). Inputs: rank 2, 3 (+mask, masked steps set to 0) or
 * 4, flattened per example; student and teacher widths equal (project the student with an adapter).
 */
public final class Crd extends FeatureLoss {
    private final double temperature;
    private final int memorySize;
    private final Object lock = new Object();
    private double[] memory;
    private int width = -1;
    private int filled;
    private int head;

    private Crd(double temperature, int memorySize) {
        this.temperature = Checks.positive("temperature", temperature);
        Checks.inRange("memorySize", memorySize, 0, 1_000_000);
        this.memorySize = memorySize;
    }

    /** CRD with temperature τ and a memory of at most {@code memorySize} teacher embeddings. */
    public static Crd of(double temperature, int memorySize) {
        return new Crd(temperature, memorySize);
    }

    /** Catalogue factory: {@code temperature} (0.07), {@code memorySize} (4096). */
    public static Crd fromParams(LossParams p) {
        return new Crd(p.real("temperature", 0.07), p.integer("memorySize", 4096));
    }

    @Override
    public String name() {
        return "Crd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("temperature", temperature);
        m.put("memorySize", memorySize);
        return m;
    }

    /** Number of teacher embeddings now in the memory (at most {@code memorySize}). */
    public int remembered() {
        synchronized (lock) {
            return filled;
        }
    }

    @Override
    public FeatureResult evaluate(FeatureBatch batch) {
        int n = batch.batch();
        int d = batch.exampleWidth(true);
        if (batch.exampleWidth(false) != d) {
            throw new IllegalArgumentException(name() + ": student and teacher embeddings must have the same width per "
                    + "example, got " + d + " and " + batch.exampleWidth(false) + " (project the student with an adapter)");
        }
        double[] mem;
        int m;
        synchronized (lock) {
            if (filled > 0 && width != d) {
                throw new IllegalArgumentException(name() + ": the memory holds embeddings of width " + width
                        + ", got width " + d);
            }
            m = filled;
            mem = m == 0 ? new double[0] : java.util.Arrays.copyOf(memory, m * d);
        }
        double[] norms = new double[n];
        double[] s = FeatureMath.normalizeRows(batch.examples(true), n, d, norms);
        double[] t = FeatureMath.normalizeRows(batch.examples(false), n, d, new double[n]);
        int cols = n + m; // column 0..n-1: teacher batch (the diagonal is the positive), then memory
        double[] z = new double[cols];
        double[] ds = new double[n * d];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                double[] src = j < n ? t : mem;
                int o = (j < n ? j : j - n) * d;
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    dot += s[i * d + k] * src[o + k];
                }
                z[j] = dot / temperature;
                max = Math.max(max, z[j]);
            }
            double se = 0;
            for (int j = 0; j < cols; j++) {
                se += Math.exp(z[j] - max);
            }
            sum += max + Math.log(se) - z[i];
            for (int j = 0; j < cols; j++) {
                double w = Math.exp(z[j] - max) / se - (j == i ? 1 : 0);
                double[] src = j < n ? t : mem;
                int o = (j < n ? j : j - n) * d;
                for (int k = 0; k < d; k++) {
                    ds[i * d + k] += w * src[o + k] / (temperature * n);
                }
            }
        }
        double[] g = FeatureMath.normalizeRowsBackward(s, ds, norms, n, d);
        return new FeatureResult(sum / n, g, Map.of("negatives", (double) (cols - 1)));
    }

    /** Appends the batch's normalised teacher embeddings to the memory (oldest dropped first). */
    @Override
    public void afterStep(FeatureBatch batch) {
        if (memorySize == 0) {
            return;
        }
        int n = batch.batch();
        int d = batch.exampleWidth(false);
        double[] t = FeatureMath.normalizeRows(batch.examples(false), n, d, new double[n]);
        synchronized (lock) {
            if (width != d) {
                if (filled > 0) {
                    throw new IllegalArgumentException(name() + ": the memory holds embeddings of width " + width
                            + ", got width " + d);
                }
                width = d;
                memory = new double[memorySize * d];
            }
            for (int i = 0; i < n; i++) {
                System.arraycopy(t, i * d, memory, head * d, d);
                head = (head + 1) % memorySize;
                filled = Math.min(filled + 1, memorySize);
            }
        }
    }
}
