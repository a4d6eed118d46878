package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The JDK Vector API kernel for float32 rows ({@code jdk.incubator.vector}, an incubator module in
 * JDK 17: it exists only when the JVM runs with {@code --add-modules jdk.incubator.vector}). This
 * class is loaded by name, and only then, by {@link Kernels}; nothing else refers to it.
 *
 * <p>Same formulas as {@link ScalarRowKernel}, computed in float lanes of the preferred species;
 * every sum over a row is accumulated in float lanes over at most {@value RowKernel#BLOCK} values and
 * then added to a double, so the per-row accumulation is in double. Per row:
 * <ol>
 *   <li>one pass reads the student row and the teacher row from the ND4J buffer (vector loads), copies
 *       them into this thread's row buffers, finds their maxima and checks that every value is finite
 *       (a NaN or ±inf is an error). When a term is KD, reverse KL, TVD, JSD, DKD or LTKD on a dense teacher and both
 *       inputs are off-heap, this pass also computes the first such term's exponentials and sums,
 *       shifted by a guess in place of the maximum ({@link VectorPairLoad}; it copies the rows only if a
 *       term reads them, {@link LoadedRows}), and that term is evaluated first; likewise the student's
 *       exponentials for the first top-k term on an off-heap student;</li>
 *   <li>per term, one pass of exponentials ({@link VectorExp}, inlined into the loop) stores the
 *       unnormalised {@code exp} values and adds up the row's sums in the same loop (in float lanes, flushed
 *       to double every block);</li>
 *   <li>one pass per term adds the term's gradient into the gradient row (the first term writes it, so
 *       it is never zeroed). The last term writes straight into the ND4J gradient buffer, except after a
 *       fused load pass: then the row stays in the row buffer, and the next row's load pass writes it out
 *       while it reads ({@link #finish} writes the last one). When the objective's only term is KD, TVD,
 *       the JSD, DKD, LTKD or a top-k term (or KD or DKD and a cross-entropy) on the fused path, the gradient
 *       pass is left out (LTKD's, but for its blocks of more than one group): the gradient is kept as its
 *       formula ({@link LazyGradient}), which the next row's load pass evaluates as it writes.</li>
 * </ol>
 * Exponent arguments are clamped at {@value #EXP_FLOOR} ({@code exp = 1.2e-38} instead of less), the
 * floor that keeps {@code 2^n} a normal float; rows with a logit range beyond {@code 87 T}
 * reach it. ({@code VectorOperators.EXP}, used before, was measured 10-20 times slower on arguments
 * that underflow.) The clamped value differs from the exact one by
 * less than {@code 1.2e-38}, next to a normaliser of at least 1. DKD, LTKD and the top-k terms are in
 * {@link VectorGroupTerms}, the KL terms in {@link VectorKlTerms}, the generalized JSD in
 * {@link VectorJsdTerm}, TVD in {@link VectorTvdTerm}.
 */
final class VectorRowKernel extends RowKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final float EXP_FLOOR = -87.3f;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    float[] s = new float[0];
    float[] t = new float[0];
    float[] g = new float[0];
    float[] p = new float[0];
    float[] q = new float[0];
    float[] u = new float[0];
    /** Whether the load pass stores {@code q (t - s)} into {@code u} ({@link VectorKlTerms#storesDiff}). */
    boolean loadDiff;
    final SparseTeacherRow sparse = new SparseTeacherRow();
    /** The row the fused load pass read last, and whether it copied it into {@code t} and {@code s}. */
    final LoadedRows loaded = new LoadedRows();
    final double[] sums = new double[4];
    /** The buffers of a standardized term. */
    private final VectorStandardized standardized = new VectorStandardized();
    /**
     * Set by {@link VectorPairLoad}: the rows' maxima and guessed shifts, the maximum of a row read alone,
     * and the finiteness sum of the last load (of one row, or of both rows together).
     */
    float maxS;
    float maxT;
    float guessS;
    float guessT;
    float loadedMax;
    float loadedCheck;
    /** {@link VectorPairLoad}'s sums per block of a row. */
    double[] blockSums = new double[0];
    /** The sums of the block that holds an excluded class ({@link #pairExps}). */
    private final double[] exBlock = new double[4];
    /**
     * Whether {@link #sums} already holds the current term's exponential sums, computed by
     * {@link VectorPairLoad} with the guessed shifts the term was given ({@link #pairExps} returns them).
     */
    private boolean presetSums;
    /** Whether the next gradient contribution replaces the gradient row (no term has written it yet). */
    boolean first;
    /**
     * Where the term being evaluated writes its gradient: the row buffer {@code g} (null), or, for the
     * last term, straight into the off-heap gradient buffer from float index {@link #outAt} on.
     */
    ByteBuffer out;
    private int outAt;
    /**
     * A row whose gradient is in {@code g} but not yet in the batch's gradient buffer (-1: none), and
     * that batch: {@link VectorPairLoad#load} writes it out while it reads the next row, and
     * {@link #finish} or the next row's load writes it otherwise.
     */
    private int pendingRow = -1;
    private Batch pendingBatch;
    /**
     * For the load passes {@link VectorPairLoad#load} and {@link VectorSingleLoad#loadStudent}: where they write
     * {@code g} out (null: nowhere), from float index {@link #flushAt}.
     */
    ByteBuffer flushTo;
    int flushAt;
    /** The pending row's gradient as its formula ({@code active}), for the next load pass to evaluate. */
    final LazyGradient lazy = new LazyGradient();
    /** Whether the term being evaluated may leave its gradient in {@link #lazy}. */
    boolean lazyOk;
    /**
     * {@link VectorCrossEntropyTerm#fromPowers}: the first term's integer temperature while the
     * cross-entropy after it takes its exponentials from {@code q} (0: it does not), the power whose
     * {@code Σ q^n} the load pass took into {@code powerSum} (0: none), whether that pass (which then ran for
     * this row) added up the student's logits into {@code studentSum} for label smoothing, the row's student
     * maximum, and what the first term leaves for the cross-entropy's gradient
     * ({@link VectorCrossEntropyTerm#defer}).
     */
    int cePower;
    int loadPower;
    double powerSum;
    boolean loadSum;
    double studentSum;
    float studentMax;
    float qShift;
    float deferQ;
    float deferP;
    int deferTarget;
    float deferTargetDelta;

    /** The lane count, for the log line. */
    static String describe() {
        return "JDK Vector API, " + S.vectorBitSize() + "-bit, " + L + " float lanes";
    }

    private void ensure(int c) {
        if (s.length < c) {
            s = new float[c];
            t = new float[c];
            g = new float[c];
            p = new float[c];
            q = new float[c];
            u = new float[c];
        }
    }

    @Override
    double row(Batch b, int row, int label, double[] values) {
        int c = b.classes;
        ensure(c);
        standardized.forget();
        int pair = VectorPairLoad.pairTerm(b);
        boolean dkd = pair >= 0 && b.terms[pair].kind() == FusedTerm.Kind.DKD;
        if (dkd && (label < 0 || label >= c)) {
            pair = -1; // the unfused path reports the label
        }
        float ms;
        float mt = 0;
        float gs = 0;
        float gt = 0;
        boolean wantGrad = b.grad != null;
        boolean direct = wantGrad && b.grad.bytes() != null;
        int top = pair < 0 ? VectorPairLoad.sparseTerm(b) : -1;
        // a row read by a fused load pass leaves its gradient in g for the next row's load pass to write out
        boolean defer = direct && (pair >= 0 || top >= 0);
        if (pendingRow >= 0 && (!defer || pendingBatch != b)) {
            finish();
        }
        flushTo = pendingRow >= 0 ? b.grad.bytes() : null;
        flushAt = pendingRow >= 0 ? b.grad.start(pendingRow) : 0;
        pendingRow = -1;
        pendingBatch = null;
        loadPower = pair >= 0 && !dkd ? VectorCrossEntropyTerm.companionPower(b, pair) : 0;
        loadDiff = defer && VectorKlTerms.storesDiff(b, pair);
        loadSum = pair >= 0 && LoadedRows.powersWithSmoothing(b, pair);
        if (pair >= 0) {
            // the load pass fused with the pair term's exponentials, shifted by guesses; it also writes out
            // the previous row's gradient
            boolean fits;
            try {
                fits = VectorPairLoad.load(this, b, row, c, pair, dkd ? label : -1);
            } finally {
                flushTo = null;
                lazy.active = false;
            }
            ms = maxS;
            mt = maxT;
            gs = guessS;
            gt = guessT;
            if (!fits) {
                pair = -1;
                loadPower = 0;
            }
        } else {
            if (top >= 0) {
                // the student's load pass fused with the first top-k term's exponentials (and the previous
                // row's gradient write)
                boolean fits;
                try {
                    fits = VectorSingleLoad.loadStudent(this, b, row, c, top);
                } finally {
                    flushTo = null;
                    lazy.active = false;
                }
                ms = maxS;
                gs = guessS;
                pair = fits ? top : -1;
            } else {
                ms = standardized.copy(b, b.student, row, s, c, "student_logits", 0);
                loaded.set(null, 0, true); // no load pass's row to read in place: terms read the row buffers
            }
            if (b.denseTeacher()) {
                mt = standardized.copy(b, b.teacher, row, t, c, "teacher_logits", 1);
            } else if (b.topK > 0) {
                sparse.load(b.teacher, row, c);
            }
        }
        first = true;
        int n = b.terms.length;
        cePower = VectorCrossEntropyTerm.companionPower(b, pair);
        lazyOk = defer && pair >= 0 && (n == 1 ? lazyKind(b.terms[pair]) : n == 2 && cePower > 0);
        outAt = direct ? b.grad.start(row) : 0;
        double total = 0;
        studentMax = ms;
        for (int k = 0; k < n; k++) {
            // the pair term whose exponentials the load pass computed goes first
            int i = pair < 0 ? k : k == 0 ? pair : k <= pair ? k - 1 : k;
            boolean pre = i == pair;
            presetSums = pre;
            float fs = pre ? gs : ms;
            float ft = pre ? gt : mt;
            FusedTerm term = b.terms[i];
            out = direct && !defer && k == n - 1 ? b.grad.bytes() : null;
            double gw = wantGrad ? term.weight() * b.gradScale : 0.0;
            double v = term.standardize()
                    ? standardized.term(this, b, i, c, label, wantGrad, gw, values)
                    : term(b, i, c, fs, ft, label, wantGrad, gw, values);
            values[b.slot[i]] = v;
            total += term.weight() * v;
        }
        presetSums = false;
        lazyOk = false;
        out = null;
        if (wantGrad && first) {
            Arrays.fill(g, 0, c, 0f);
        }
        if (defer) {
            pendingRow = row;
            pendingBatch = b;
        } else if (wantGrad && (!direct || first)) {
            b.grad.write(row, g);
        }
        return total;
    }

    @Override
    void finish() {
        loaded.set(null, 0, true); // holds no batch past its chunk
        if (pendingRow >= 0) {
            if (lazy.active) {
                VectorHeldGradient.writeInto(lazy, g, q, pendingBatch.classes);
            }
            pendingBatch.grad.write(pendingRow, g);
            pendingRow = -1;
            pendingBatch = null;
        }
        lazy.active = false; // a term that held its gradient before its row failed
    }

    /**
     * Term {@code i} on the row buffers, shifted by {@code ms} and {@code mt} (the maxima, or for the pair
     * term of {@link VectorPairLoad} its guesses).
     */
    double term(Batch b, int i, int c, float ms, float mt, int label, boolean wantGrad, double gw,
                        double[] values) {
        FusedTerm term = b.terms[i];
        double tau = term.temperature();
        int at = b.slot[i];
        return switch (term.kind()) {
            case CROSS_ENTROPY -> cePower > 0
                    ? VectorCrossEntropyTerm.fromPowers(this, c, label, term.labelSmoothing(), wantGrad, gw)
                    : VectorCrossEntropyTerm.crossEntropy(this, c, ms, label, term.labelSmoothing(), wantGrad, gw);
            case SOFT_TARGET_KL -> tau * tau * VectorKlTerms.forwardKl(this, c, ms, mt, tau, wantGrad, gw * tau);
            case REVERSE_KL -> VectorKlTerms.reverseKl(this, c, ms, mt, tau, wantGrad, gw / tau);
            case TOTAL_VARIATION -> VectorTvdTerm.tvd(this, c, ms, mt, tau, wantGrad, gw / tau);
            case GENERALIZED_JSD -> VectorKlTerms.jsd(this, c, ms, mt, tau, term.teacherMixWeight(), wantGrad, gw / tau);
            case DKD -> VectorGroupTerms.dkd(this, c, ms, mt, label, term, wantGrad, gw, values, at);
            case LTKD -> VectorLtkdTerm.ltkd(this, c, ms, mt, term, b.logRebalance[i], wantGrad, gw, values, at);
            case SPARSE_TOP_K_KL, SPARSE_TOP_K_TVD -> VectorGroupTerms.sparse(this, c, ms, term, wantGrad, gw);
        };
    }

    @Override
    void groupMasses(Batch b, int row, FusedTerm term, double[] out) {
        groupMasses(b, row, -1, term, out);
    }

    @Override
    void groupMasses(Batch b, int row, int next, FusedTerm term, double[] out) {
        ensure(b.classes);
        VectorLtkdTerm.groupMasses(this, b, row, next, term, out);
    }

    /**
     * The lane-wise maximum of {@code a} and {@code b} for lanes that are not NaN (a compare and a blend;
     * a NaN lane of {@code b} is skipped), in place of {@code a.max(b)}, which C2 builds from five
     * instructions on AVX2 to follow Java's NaN and signed-zero rules.
     */
    static FloatVector larger(FloatVector a, FloatVector b) {
        return a.blend(b, b.compare(VectorOperators.GT, a));
    }

    /** Stores gradient lanes {@code [j, j + L)}. */
    void store(FloatVector v, int j) {
        if (out != null) {
            v.intoByteBuffer(out, 4 * (outAt + j), ORDER);
        } else {
            v.intoArray(g, j);
        }
    }

    /** Stores the gradient of class {@code j}. */
    void store(int j, float v) {
        if (out != null) {
            out.putFloat(4 * (outAt + j), v);
        } else {
            g[j] = v;
        }
    }

    /** Adds {@code d} to the gradient of class {@code j} written by the current term. */
    void addAt(int j, float d) {
        if (lazy.active) {
            lazy.add(j, d);
            return;
        }
        if (out != null) {
            int at = 4 * (outAt + j);
            out.putFloat(at, out.getFloat(at) + d);
        } else {
            g[j] += d;
        }
    }

    /**
     * Holds {@code g = kq q + kx x} in {@link #lazy} when the term being evaluated may ({@link #lazyOk}: the
     * objective's only term, of a {@link #lazyKind}, or KD or DKD with a cross-entropy that takes its
     * exponentials as {@code q^n}, on a fused load pass whose next row writes it out) and writes first.
     */
    boolean hold(float kq, float[] x, float kx) {
        if (!first || !lazyOk) {
            return false;
        }
        lazy.hold(x, kq, kx);
        first = false;
        return true;
    }

    /**
     * Whether term {@code t}'s gradient is {@code kq q + kx x} plus additions at single classes (DKD's
     * target, a top-k term's k classes), which {@link #lazy} holds: every kind but the cross-entropy (reverse
     * KL with the load pass's {@code x}, {@link VectorKlTerms#storesDiff}).
     */
    private static boolean lazyKind(FusedTerm t) {
        return t.kind() != FusedTerm.Kind.CROSS_ENTROPY;
    }

    /** {@code exp(max(x, EXP_FLOOR))} for the scalar tail of a row. */
    static float exp(float x) {
        return (float) Math.exp(Math.max(x, EXP_FLOOR));
    }

    /** Whether the next {@link #pairExps} call returns the sums {@link VectorPairLoad} computed. */
    boolean presetSums() {
        return presetSums;
    }

    /** {@link #presetSums}, cleared: for a term that takes {@code p} and {@code q} as they are (LTKD). */
    boolean takePresetSums() {
        boolean preset = presetSums;
        presetSums = false;
        return preset;
    }

    /**
     * Unnormalised softmax pair: {@code p = exp((t - mt) / T)}, {@code q = exp((s - ms) / T)}, except
     * at class {@code ex} (-1: none), where both are 0. Returns {zt, zs, Σ p(t - s), Σ q(s - t)}, the last
     * two added up in float lanes over {@code (t - refT) - (s - refS)} ({@link VectorPairLoad#reference}) and
     * completed in double ({@link VectorPairLanes}: rows far apart keep their precision).
     */
    double[] pairExps(int c, float ms, float mt, double tau, int ex) {
        if (presetSums) {
            presetSums = false;
            return sums;
        }
        float inv = (float) (1 / tau);
        int up = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector vil = FloatVector.broadcast(S, VectorExp.log2e(inv));
        FloatVector vmt = FloatVector.broadcast(S, mt);
        FloatVector vms = FloatVector.broadcast(S, ms);
        float refT = VectorPairLoad.reference(t, c);
        float refS = VectorPairLoad.reference(s, c);
        FloatVector vrt = FloatVector.broadcast(S, refT);
        FloatVector vrs = FloatVector.broadcast(S, refS);
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double qd = 0;
        for (int j0 = 0; j0 < up; j0 += BLOCK) {
            int end = Math.min(up, j0 + BLOCK);
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector apd = FloatVector.zero(S);
            FloatVector aqd = FloatVector.zero(S);
            for (int j = j0; j < end; j += L) {
                FloatVector tv = FloatVector.fromArray(S, t, j);
                FloatVector sv = FloatVector.fromArray(S, s, j);
                FloatVector a = VectorExp.exp(tv.sub(vmt), vinv, vil);
                FloatVector b = VectorExp.exp(sv.sub(vms), vinv, vil);
                a.intoArray(p, j);
                b.intoArray(q, j);
                FloatVector d = tv.sub(vrt).sub(sv.sub(vrs)); // (refT - refS) Σ p is added in double
                azt = azt.add(a);
                azs = azs.add(b);
                apd = a.fma(d, apd);
                aqd = b.fma(d, aqd);
            }
            if (ex >= j0 && ex < end) {
                // the excluded class counts as 0: this block's sums again without it
                p[ex] = 0f;
                q[ex] = 0f;
                VectorPairLoad.blockPairSums(this, j0, end, refT, refS, exBlock, 0);
                zt += exBlock[0];
                zs += exBlock[1];
                pd += exBlock[2];
                qd += exBlock[3];
            } else {
                float bt = azt.reduceLanes(VectorOperators.ADD);
                float bs = azs.reduceLanes(VectorOperators.ADD);
                zt += bt;
                zs += bs;
                double delta = (double) refT - refS; // here, not held across the loop (VectorPairLanes)
                pd += apd.reduceLanes(VectorOperators.ADD) + delta * bt;
                qd -= aqd.reduceLanes(VectorOperators.ADD) + delta * bs;
            }
        }
        for (int j = up; j < c; j++) {
            float a = j == ex ? 0f : exp((t[j] - mt) * inv);
            float b = j == ex ? 0f : exp((s[j] - ms) * inv);
            p[j] = a;
            q[j] = b;
            zt += a;
            zs += b;
            double d = (double) t[j] - s[j];
            pd += a * d;
            qd -= b * d;
        }
        sums[0] = zt;
        sums[1] = zs;
        sums[2] = pd;
        sums[3] = qd;
        return sums;
    }

    /** {@code g (= or +=) kq q + kp p}. */
    void addScaled(int c, float kq, float kp) {
        addScaled(c, kq, p, kp);
    }

    /** {@code g (= or +=) kq q + kx x}: {@code x} is {@code p}, or a term's own buffer ({@code u}). */
    void addScaled(int c, float kq, float[] x, float kx) {
        if (hold(kq, x, kx)) {
            return;
        }
        int up = S.loopBound(c);
        boolean replace = first;
        addScaled(0, up, kq, x, kx, replace);
        for (int j = up; j < c; j++) {
            store(j, (replace ? 0f : g[j]) + kq * q[j] + kx * x[j]);
        }
        first = false;
    }

    /**
     * {@code g (= with replace, else +=) kq q + kp p} over the classes {@code [j0, end)}, {@code end - j0} a
     * multiple of the lane count; leaves {@link #first} as it is.
     */
    void addScaled(int j0, int end, float kq, float kp, boolean replace) {
        addScaled(j0, end, kq, p, kp, replace);
    }

    private void addScaled(int j0, int end, float kq, float[] x, float kx, boolean replace) {
        FloatVector vq = FloatVector.broadcast(S, kq);
        FloatVector vx = FloatVector.broadcast(S, kx);
        for (int j = j0; j < end; j += L) {
            FloatVector acc = replace ? FloatVector.zero(S) : FloatVector.fromArray(S, g, j);
            store(FloatVector.fromArray(S, x, j).fma(vx, FloatVector.fromArray(S, q, j).fma(vq, acc)), j);
        }
    }
}
