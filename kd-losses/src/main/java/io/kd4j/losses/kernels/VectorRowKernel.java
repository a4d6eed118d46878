package io.kd4j.losses.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The JDK Vector API kernel for float32 rows ({@code jdk.incubator.vector}, an incubator module in
 * JDK 17: it exists only when the JVM runs with {@code --add-modules jdk.incubator.vector}). This
 * class is loaded by name, and only then, by {@link Kernels}; nothing else refers to it.
 *
 * <p>Same formulas as {@link ScalarRowKernel}, computed in float lanes of the preferred species;
 * every sum over a row is accumulated in float lanes over at most {@value RowKernel#BLOCK} values and
 * then added to a double, so the per-row accumulation is in double. A row with a generalized-JSD term
 * at 0 &lt; β &lt; 1 (one logarithm per class) is handed to the scalar kernel.
 */
final class VectorRowKernel extends RowKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private final ScalarRowKernel scalar = new ScalarRowKernel();
    private float[] s = new float[0];
    private float[] t = new float[0];
    private float[] g = new float[0];
    private float[] p = new float[0];
    private float[] q = new float[0];
    private final double[] sums = new double[4];

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
        }
    }

    @Override
    double row(DenseRows student, DenseRows teacher, int label, int row, FusedTerm[] terms, DenseRows grad,
               double gradScale, double[] termValues) {
        for (FusedTerm term : terms) {
            if (term.kind() == FusedTerm.Kind.GENERALIZED_JSD && term.teacherMixWeight() > 0
                    && term.teacherMixWeight() < 1) {
                return scalar.row(student, teacher, label, row, terms, grad, gradScale, termValues);
            }
        }
        int c = student.width();
        ensure(c);
        student.read(row, s);
        float ms = checkedMax(s, c, "student_logits", row);
        float mt = 0;
        if (teacher != null) {
            teacher.read(row, t);
            mt = checkedMax(t, c, "teacher_logits", row);
        }
        boolean wantGrad = grad != null;
        if (wantGrad) {
            Arrays.fill(g, 0, c, 0f);
        }
        double total = 0;
        for (int i = 0; i < terms.length; i++) {
            FusedTerm term = terms[i];
            double gw = term.weight() * gradScale;
            double tau = term.temperature();
            double v = switch (term.kind()) {
                case CROSS_ENTROPY -> crossEntropy(c, ms, label, term.labelSmoothing(), wantGrad, gw);
                case SOFT_TARGET_KL -> tau * tau * forwardKl(c, ms, mt, tau, wantGrad, gw * tau);
                case REVERSE_KL -> reverseKl(c, ms, mt, tau, wantGrad, gw / tau);
                case TOTAL_VARIATION -> totalVariation(c, ms, mt, tau, wantGrad, gw / tau);
                case GENERALIZED_JSD -> term.teacherMixWeight() == 0
                        ? forwardKl(c, ms, mt, tau, wantGrad, gw / tau)
                        : reverseKl(c, ms, mt, tau, wantGrad, gw / tau);
            };
            termValues[i] = v;
            total += term.weight() * v;
        }
        if (wantGrad) {
            grad.write(row, g);
        }
        return total;
    }

    /** The row maximum; a non-finite value anywhere in the row is an error naming it. */
    private static float checkedMax(float[] x, int c, String name, int row) {
        int upper = S.loopBound(c);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector vmin = FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
        for (int j = 0; j < upper; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            vmax = vmax.max(v);
            vmin = vmin.min(v);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        float min = vmin.reduceLanes(VectorOperators.MIN);
        for (int j = upper; j < c; j++) {
            max = Math.max(max, x[j]);
            min = Math.min(min, x[j]);
        }
        if (!Float.isFinite(max) || !Float.isFinite(min)) {
            Kernels.rejectNonFinite(x, c, name, row);
        }
        return max;
    }

    private double crossEntropy(int c, float ms, int label, double e, boolean wantGrad, double gw) {
        int upper = S.loopBound(c);
        FloatVector vms = FloatVector.broadcast(S, ms);
        double z = 0;
        double sum = 0;
        int j = 0;
        while (j < upper) {
            int end = Math.min(upper, j + BLOCK);
            FloatVector az = FloatVector.zero(S);
            FloatVector as = FloatVector.zero(S);
            for (; j < end; j += L) {
                FloatVector sv = FloatVector.fromArray(S, s, j);
                FloatVector b = sv.sub(vms).lanewise(VectorOperators.EXP);
                b.intoArray(q, j);
                az = az.add(b);
                as = as.add(sv);
            }
            z += az.reduceLanes(VectorOperators.ADD);
            sum += as.reduceLanes(VectorOperators.ADD);
        }
        for (; j < c; j++) {
            float b = (float) Math.exp(s[j] - ms);
            q[j] = b;
            z += b;
            sum += s[j];
        }
        double lse = ms + Math.log(z);
        double uniform = e / c;
        double value = lse - (1 - e) * s[label] - uniform * sum;
        if (wantGrad) {
            FloatVector k = FloatVector.broadcast(S, (float) (gw / z));
            FloatVector off = FloatVector.broadcast(S, (float) (gw * uniform));
            for (j = 0; j < upper; j += L) {
                FloatVector gv = FloatVector.fromArray(S, g, j);
                FloatVector.fromArray(S, q, j).fma(k, gv).sub(off).intoArray(g, j);
            }
            for (; j < c; j++) {
                g[j] += (float) (gw * (q[j] / z - uniform));
            }
            g[label] -= (float) (gw * (1 - e));
        }
        return value;
    }

    /** Unnormalised exps into p, q; sums {zt, zs, Σ p(t-s), Σ q(s-t)}. */
    private double[] exps(int c, float ms, float mt, double tau) {
        float inv = (float) (1 / tau);
        int upper = S.loopBound(c);
        FloatVector vinv = FloatVector.broadcast(S, inv);
        FloatVector nmt = FloatVector.broadcast(S, -mt * inv);
        FloatVector nms = FloatVector.broadcast(S, -ms * inv);
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double qd = 0;
        int j = 0;
        while (j < upper) {
            int end = Math.min(upper, j + BLOCK);
            FloatVector azt = FloatVector.zero(S);
            FloatVector azs = FloatVector.zero(S);
            FloatVector apd = FloatVector.zero(S);
            FloatVector aqd = FloatVector.zero(S);
            for (; j < end; j += L) {
                FloatVector tv = FloatVector.fromArray(S, t, j);
                FloatVector sv = FloatVector.fromArray(S, s, j);
                FloatVector a = tv.fma(vinv, nmt).lanewise(VectorOperators.EXP);
                FloatVector b = sv.fma(vinv, nms).lanewise(VectorOperators.EXP);
                a.intoArray(p, j);
                b.intoArray(q, j);
                azt = azt.add(a);
                azs = azs.add(b);
                FloatVector d = tv.sub(sv);
                apd = a.fma(d, apd);
                aqd = b.fma(d, aqd);
            }
            zt += azt.reduceLanes(VectorOperators.ADD);
            zs += azs.reduceLanes(VectorOperators.ADD);
            pd += apd.reduceLanes(VectorOperators.ADD);
            qd -= aqd.reduceLanes(VectorOperators.ADD);
        }
        for (; j < c; j++) {
            float a = (float) Math.exp((t[j] - mt) * inv);
            float b = (float) Math.exp((s[j] - ms) * inv);
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

    private double forwardKl(int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        double kl = z[2] / (tau * z[0]) - (mt / tau + Math.log(z[0])) + (ms / tau + Math.log(z[1]));
        if (wantGrad) {
            int upper = S.loopBound(c);
            FloatVector ks = FloatVector.broadcast(S, (float) (gw / z[1]));
            FloatVector kt = FloatVector.broadcast(S, (float) (-gw / z[0]));
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector gv = FloatVector.fromArray(S, g, j);
                gv = FloatVector.fromArray(S, q, j).fma(ks, gv);
                FloatVector.fromArray(S, p, j).fma(kt, gv).intoArray(g, j);
            }
            for (; j < c; j++) {
                g[j] += (float) (gw * (q[j] / z[1] - p[j] / z[0]));
            }
        }
        return kl;
    }

    private double reverseKl(int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        double shift = mt / tau + Math.log(z[0]) - ms / tau - Math.log(z[1]);
        double kl = z[3] / (tau * z[1]) + shift;
        if (wantGrad) {
            int upper = S.loopBound(c);
            float inv = (float) (1 / tau);
            FloatVector vinv = FloatVector.broadcast(S, inv);
            FloatVector k = FloatVector.broadcast(S, (float) (gw / z[1]));
            FloatVector sk = FloatVector.broadcast(S, (float) (shift - kl));
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector sv = FloatVector.fromArray(S, s, j);
                FloatVector tv = FloatVector.fromArray(S, t, j);
                FloatVector inner = sv.sub(tv).fma(vinv, sk);
                FloatVector gv = FloatVector.fromArray(S, g, j);
                FloatVector.fromArray(S, q, j).mul(k).fma(inner, gv).intoArray(g, j);
            }
            for (; j < c; j++) {
                g[j] += (float) (gw * q[j] / z[1] * ((s[j] - t[j]) * (double) inv + shift - kl));
            }
        }
        return kl;
    }

    private double totalVariation(int c, float ms, float mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        int upper = S.loopBound(c);
        FloatVector vis = FloatVector.broadcast(S, (float) (1 / z[1]));
        FloatVector vit = FloatVector.broadcast(S, (float) (1 / z[0]));
        FloatVector half = FloatVector.broadcast(S, 0.5f);
        double sum = 0;
        double su = 0;
        int j = 0;
        while (j < upper) {
            int end = Math.min(upper, j + BLOCK);
            FloatVector asum = FloatVector.zero(S);
            FloatVector asu = FloatVector.zero(S);
            for (; j < end; j += L) {
                FloatVector qv = FloatVector.fromArray(S, q, j).mul(vis);
                FloatVector d = qv.sub(FloatVector.fromArray(S, p, j).mul(vit));
                asum = asum.add(d.abs());
                asu = qv.mul(half).fma(sign(d), asu);
            }
            sum += asum.reduceLanes(VectorOperators.ADD);
            su += asu.reduceLanes(VectorOperators.ADD);
        }
        for (int r = j; r < c; r++) {
            double qj = q[r] / z[1];
            double d = qj - p[r] / z[0];
            sum += Math.abs(d);
            su += 0.5 * qj * tieSign(d);
        }
        if (wantGrad) {
            FloatVector vgw = FloatVector.broadcast(S, (float) gw);
            FloatVector vsu = FloatVector.broadcast(S, (float) su);
            for (j = 0; j < upper; j += L) {
                FloatVector qv = FloatVector.fromArray(S, q, j).mul(vis);
                FloatVector d = qv.sub(FloatVector.fromArray(S, p, j).mul(vit));
                FloatVector u = qv.mul(half).mul(sign(d)).sub(qv.mul(vsu));
                u.fma(vgw, FloatVector.fromArray(S, g, j)).intoArray(g, j);
            }
            for (; j < c; j++) {
                double qj = q[j] / z[1];
                double d = qj - p[j] / z[0];
                g[j] += (float) (gw * (0.5 * qj * tieSign(d) - qj * su));
            }
        }
        return 0.5 * sum;
    }

    private static FloatVector sign(FloatVector d) {
        VectorMask<Float> pos = d.compare(VectorOperators.GT, (float) TIE);
        VectorMask<Float> neg = d.compare(VectorOperators.LT, (float) -TIE);
        return FloatVector.zero(S).blend(1f, pos).blend(-1f, neg);
    }
}
