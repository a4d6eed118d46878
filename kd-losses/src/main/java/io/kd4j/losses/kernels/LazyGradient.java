package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A row's gradient kept as its formula {@code g = kq q + kx x} (with a cross-entropy, plus {@code kn q^n + off},
 * {@link #power}) plus additions at single classes, over the row buffers of a {@link VectorRowKernel}, instead
 * of a pass that writes it into the row buffer {@code g}.
 * The next row's fused load pass ({@link VectorPairLoad}, {@link VectorSingleLoad}) evaluates it class by
 * class while it writes the row's gradient to the batch's gradient buffer, reading {@code q} and
 * {@code x} at each class before it stores the next row's exponentials there; the classes with additions
 * are evaluated before that loop ({@link #prepare}) and written after it ({@link #writeAdded}).
 * {@link #writeInto} evaluates it into {@code g} when no such pass follows. Used when an objective's only
 * term is KD, reverse KL, TVD, the JSD, DKD, LTKD or a top-k term on a fused load pass, whose gradients
 * have this form ({@code x} is {@code p}, {@code q} or the term's {@code u}; for reverse KL the load pass's
 * {@code q (t - s)}, {@link VectorKlTerms#storesDiff}; DKD adds at its target,
 * a top-k term at its k classes; LTKD's constants are per class group, {@link #holdGroups}), and when
 * its two terms are KD or DKD and a cross-entropy that takes its
 * exponentials as {@code q^n} ({@link VectorCrossEntropyTerm#fromPowers}; it adds at the label).
 */
final class LazyGradient {
    /** Whether a gradient is held. */
    boolean active;
    float[] x;
    float kq;
    float kx;
    /**
     * The power term {@code kn q^n + off} of a cross-entropy that takes its exponentials as {@code q^n}
     * ({@link VectorCrossEntropyTerm#fromPowers}); {@code n = 0}: none.
     */
    int n;
    float kn;
    float off;
    /**
     * LTKD's form ({@link #holdGroups}; null: one {@code kq} and {@code kx} for every class): per block of
     * {@value RowKernel#BLOCK} classes of the vector part, the group all its classes are in, whose
     * {@link #groupKq} and {@link #groupKx} it takes, or -1: the block's gradient is in {@link #rows}, as is the
     * scalar tail's from class {@link #up} on.
     */
    int[] blockGroup;
    final float[] groupKq = new float[3];
    final float[] groupKx = new float[3];
    float[] rows;
    int up;
    private int[] added = new int[4];
    private float[] delta = new float[4];
    private float[] value = new float[4];
    private int count;

    /** Holds {@code g = kq q + kx x}, without additions. */
    void hold(float[] x, float kq, float kx) {
        this.x = x;
        this.kq = kq;
        this.kx = kx;
        this.count = 0;
        this.n = 0;
        this.blockGroup = null;
        this.active = true;
    }

    /**
     * Holds LTKD's gradient {@code cq_g q + cp_g p} ({@code x} is {@code p}) per group g, for the blocks of
     * the vector part whose classes are all in one group ({@code blockGroup}, the groups'
     * {@link FusedTerm.LtkdGroups#blockGroups}); the other blocks and the classes from {@code up} on are
     * already in {@code rows} (the row buffer {@code g}).
     */
    void holdGroups(float[] p, double[] cq, double[] cp, int[] blockGroup, float[] rows, int up) {
        hold(p, 0f, 0f);
        for (int gi = 0; gi < 3; gi++) {
            groupKq[gi] = (float) cq[gi];
            groupKx[gi] = (float) cp[gi];
        }
        this.blockGroup = blockGroup;
        this.rows = rows;
        this.up = up;
    }

    /** Adds {@code kn q^n + off} ({@code 1 <= n <= RowKernel.MAX_POWER}) to the held gradient. */
    void power(int n, float kn, float off) {
        this.n = n;
        this.kn = kn;
        this.off = off;
    }

    /** Adds {@code d} at class {@code j} to the held gradient. */
    void add(int j, float d) {
        if (count == added.length) {
            added = Arrays.copyOf(added, 2 * count);
            delta = Arrays.copyOf(delta, 2 * count);
            value = Arrays.copyOf(value, 2 * count);
        }
        added[count] = j;
        delta[count] = d;
        count++;
    }

    /** The held gradient at class {@code j} without its additions ({@link #writeAdded} writes those). */
    float base(float[] q, int j) {
        if (blockGroup != null) {
            int gi = j < up ? blockGroup[j / RowKernel.BLOCK] : -1;
            return gi < 0 ? rows[j] : groupKq[gi] * q[j] + groupKx[gi] * x[j];
        }
        float v = kq * q[j] + kx * x[j];
        return n == 0 ? v : v + kn * VectorCrossEntropyTerm.power(q[j], n) + off;
    }

    /** The held gradient at class {@code j}, its additions included. */
    float at(float[] q, int j) {
        float v = base(q, j);
        for (int i = 0; i < count; i++) {
            if (added[i] == j) {
                v += delta[i];
            }
        }
        return v;
    }

    /**
     * Evaluates the classes with additions of a held gradient, before a load pass overwrites {@code q} and
     * {@code x}.
     */
    void prepare(float[] q) {
        if (!active) {
            return;
        }
        for (int i = 0; i < count; i++) {
            value[i] = at(q, added[i]);
        }
    }

    /**
     * Writes the classes {@link #prepare} evaluated to {@code out} (null: nowhere) from float index
     * {@code at} on, if a gradient is held.
     */
    void writeAdded(ByteBuffer out, int at) {
        if (!active || out == null) {
            return;
        }
        for (int i = 0; i < count; i++) {
            out.putFloat(4 * (at + added[i]), value[i]);
        }
    }

    /** Writes the held gradient of {@code c} classes into {@code g} and holds none. */
    void writeInto(float[] g, float[] q, int c) {
        writeInto(g, q, 0, c);
    }

    /**
     * {@link #writeInto(float[], float[], int)} with the classes before {@code from} already evaluated into
     * {@code g} ({@link VectorHeldGradient}): the rest, then the additions.
     */
    void writeInto(float[] g, float[] q, int from, int c) {
        for (int j = from; j < c; j++) {
            g[j] = base(q, j);
        }
        for (int i = 0; i < count; i++) {
            g[added[i]] += delta[i];
        }
        active = false;
    }
}
