package io.kd4j.losses.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float64 kernel on the JDK Vector API: {@link ScalarRowKernel} (double precision throughout) with
 * its hot passes, the row maxima, the exponentials of KD, reverse KL, TVD, JSD and cross-entropy and
 * the KD and cross-entropy gradients, in {@code DoubleVector} lanes of the preferred species. Sums
 * stay in double (lane-wise, then reduced). Loaded by name by {@link Kernels}, like
 * {@link VectorRowKernel}. DKD, LTKD and the top-k terms run their double loops of
 * {@link ScalarGroupTerms} and {@link ScalarSparseTerms}.
 *
 * <p>Exponent arguments are clamped at {@value #EXP_FLOOR} ({@code exp = 3.3e-308} instead of less),
 * which keeps SVML's {@code exp} off its slow underflow path.
 */
final class VectorDoubleRowKernel extends ScalarRowKernel {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int L = D.length();
    static final double EXP_FLOOR = -708.0;

    /** The lane count, for the log line. */
    static String describe() {
        return L + " double lanes";
    }

    @Override
    double checkedMax(double[] x, int c, String name, int row) {
        int up = D.loopBound(c);
        DoubleVector vmax = DoubleVector.broadcast(D, Double.NEGATIVE_INFINITY);
        DoubleVector vmin = DoubleVector.broadcast(D, Double.POSITIVE_INFINITY);
        for (int j = 0; j < up; j += L) {
            DoubleVector v = DoubleVector.fromArray(D, x, j);
            vmax = vmax.max(v);
            vmin = vmin.min(v);
        }
        double max = vmax.reduceLanes(VectorOperators.MAX);
        double min = vmin.reduceLanes(VectorOperators.MIN);
        for (int j = up; j < c; j++) {
            max = Math.max(max, x[j]);
            min = Math.min(min, x[j]);
        }
        if (!Double.isFinite(max) || !Double.isFinite(min)) {
            Kernels.rejectNonFinite(x, c, name, row);
        }
        return max;
    }

    @Override
    double[] studentExps(int c, double ms) {
        int up = D.loopBound(c);
        DoubleVector vms = DoubleVector.broadcast(D, ms);
        DoubleVector floor = DoubleVector.broadcast(D, EXP_FLOOR);
        DoubleVector az = DoubleVector.zero(D);
        DoubleVector as = DoubleVector.zero(D);
        for (int j = 0; j < up; j += L) {
            DoubleVector sv = DoubleVector.fromArray(D, s, j);
            DoubleVector b = sv.sub(vms).max(floor).lanewise(VectorOperators.EXP);
            b.intoArray(q, j);
            az = az.add(b);
            as = as.add(sv);
        }
        double z = az.reduceLanes(VectorOperators.ADD);
        double sum = as.reduceLanes(VectorOperators.ADD);
        for (int j = up; j < c; j++) {
            double b = Math.exp(Math.max(s[j] - ms, EXP_FLOOR));
            q[j] = b;
            z += b;
            sum += s[j];
        }
        sums[0] = z;
        sums[1] = sum;
        return sums;
    }

    @Override
    double[] exps(int c, double ms, double mt, double tau) {
        double inv = 1 / tau;
        int up = D.loopBound(c);
        DoubleVector vinv = DoubleVector.broadcast(D, inv);
        DoubleVector vmt = DoubleVector.broadcast(D, mt);
        DoubleVector vms = DoubleVector.broadcast(D, ms);
        DoubleVector floor = DoubleVector.broadcast(D, EXP_FLOOR);
        DoubleVector azt = DoubleVector.zero(D);
        DoubleVector azs = DoubleVector.zero(D);
        DoubleVector apd = DoubleVector.zero(D);
        DoubleVector aqd = DoubleVector.zero(D);
        for (int j = 0; j < up; j += L) {
            DoubleVector tv = DoubleVector.fromArray(D, t, j);
            DoubleVector sv = DoubleVector.fromArray(D, s, j);
            DoubleVector a = tv.sub(vmt).mul(vinv).max(floor).lanewise(VectorOperators.EXP);
            DoubleVector b = sv.sub(vms).mul(vinv).max(floor).lanewise(VectorOperators.EXP);
            a.intoArray(p, j);
            b.intoArray(q, j);
            azt = azt.add(a);
            azs = azs.add(b);
            DoubleVector d = tv.sub(sv);
            apd = a.fma(d, apd);
            aqd = b.fma(d, aqd);
        }
        double zt = azt.reduceLanes(VectorOperators.ADD);
        double zs = azs.reduceLanes(VectorOperators.ADD);
        double pd = apd.reduceLanes(VectorOperators.ADD);
        double qd = -aqd.reduceLanes(VectorOperators.ADD);
        for (int j = up; j < c; j++) {
            double a = Math.exp(Math.max((t[j] - mt) * inv, EXP_FLOOR));
            double b = Math.exp(Math.max((s[j] - ms) * inv, EXP_FLOOR));
            p[j] = a;
            q[j] = b;
            zt += a;
            zs += b;
            double d = t[j] - s[j];
            pd += a * d;
            qd -= b * d;
        }
        sums[0] = zt;
        sums[1] = zs;
        sums[2] = pd;
        sums[3] = qd;
        return sums;
    }

    @Override
    void addScaled(int c, double kq, double kp, double k0) {
        int up = D.loopBound(c);
        DoubleVector vq = DoubleVector.broadcast(D, kq);
        DoubleVector vp = DoubleVector.broadcast(D, kp);
        DoubleVector v0 = DoubleVector.broadcast(D, k0);
        for (int j = 0; j < up; j += L) {
            DoubleVector acc = DoubleVector.fromArray(D, g, j).add(v0);
            acc = DoubleVector.fromArray(D, q, j).fma(vq, acc);
            if (kp != 0) {
                acc = DoubleVector.fromArray(D, p, j).fma(vp, acc);
            }
            acc.intoArray(g, j);
        }
        for (int j = up; j < c; j++) {
            g[j] += kq * q[j] + (kp == 0 ? 0.0 : kp * p[j]) + k0;
        }
    }
}
