package io.kd4j.losses.kernels;

/**
 * A row's gradient kept as its formula {@code g = kq q + kx x} (plus {@code delta} at one class) over the
 * row buffers of a {@link VectorRowKernel}, instead of a pass that writes it into the row buffer {@code g}.
 * The next row's fused load pass ({@link VectorPairLoad}) evaluates it class by class while it writes the
 * row's gradient to the batch's gradient buffer, reading {@code q} and {@code x} at each class before it
 * stores the next row's exponentials there; {@link #writeInto} evaluates it into {@code g} when no such
 * pass follows. Used when an objective's only term is KD, TVD, the JSD at 0 &lt; β &lt; 1 or DKD on the
 * fused pair path, whose gradients have this form ({@code x} is {@code p} or the term's {@code u}).
 */
final class LazyGradient {
    /** Whether a gradient is held. */
    boolean active;
    float[] x;
    float kq;
    float kx;
    /** The class that gets {@link #delta} on top (-1: none). */
    int at = -1;
    float delta;

    /** Holds {@code g = kq q + kx x}. */
    void hold(float[] x, float kq, float kx) {
        this.x = x;
        this.kq = kq;
        this.kx = kx;
        this.at = -1;
        this.delta = 0f;
        this.active = true;
    }

    /**
     * Adds {@code d} at class {@code j} to the held gradient; false when it cannot (a class already
     * holds an addition), and the caller writes the gradient into {@code g} first.
     */
    boolean add(int j, float d) {
        if (at >= 0) {
            return false;
        }
        at = j;
        delta = d;
        return true;
    }

    /** The held gradient at class {@code j}. */
    float at(float[] q, int j) {
        float v = kq * q[j] + kx * x[j];
        return j == at ? v + delta : v;
    }

    /** Writes the held gradient of {@code c} classes into {@code g} and holds none. */
    void writeInto(float[] g, float[] q, int c) {
        for (int j = 0; j < c; j++) {
            g[j] = at(q, j);
        }
        active = false;
    }
}
