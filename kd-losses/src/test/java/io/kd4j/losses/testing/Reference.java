package io.kd4j.losses.testing;

/**
 * Independent double-precision reference arithmetic for golden values: written plainly from the
 * formulas (no max-shift tricks shared with the code under test, no kd4j classes).
 */
public final class Reference {
    private Reference() {
    }

    /** softmax(x / t) computed directly. */
    public static double[] softmax(double[] x, double t) {
        double[] e = new double[x.length];
        double z = 0;
        for (int i = 0; i < x.length; i++) {
            e[i] = Math.exp(x[i] / t);
            z += e[i];
        }
        for (int i = 0; i < x.length; i++) {
            e[i] /= z;
        }
        return e;
    }

    /** KL(p || q) = sum p log(p / q). */
    public static double kl(double[] p, double[] q) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                s += p[i] * Math.log(p[i] / q[i]);
            }
        }
        return s;
    }
}
