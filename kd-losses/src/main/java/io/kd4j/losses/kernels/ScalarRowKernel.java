package io.kd4j.losses.kernels;

import java.util.Arrays;

/**
 * The plain-Java kernel: one row at a time in double precision (float32 rows are widened as they are
 * copied in). Used for float64 data, and for float32 data when the JDK Vector API is not available.
 * The formulas are those of the catalogue classes, rearranged so that each term needs one pass of
 * exponentials over the row (max-shifted, unnormalised {@code exp} kept in row buffers) and one pass
 * that adds its gradient; a cross-entropy next to a soft-target KL term at an integer temperature
 * {@code n} is evaluated right after it and takes {@code q^n} for its exponentials ({@link #cePower}).
 * DKD and LTKD are in {@link ScalarGroupTerms}, the top-k terms in
 * {@link ScalarSparseTerms}. {@code VectorDoubleRowKernel} (float64 data when the JVM has the Vector
 * API) overrides the passes of exponentials and the KD gradient with {@code DoubleVector} loops.
 */
class ScalarRowKernel extends RowKernel {
    double[] s = new double[0];
    double[] t = new double[0];
    double[] g = new double[0];
    double[] p = new double[0];
    double[] q = new double[0];
    double[] u = new double[0];
    final SparseTeacherRow sparse = new SparseTeacherRow();
    final double[] sums = new double[4];
    /** Row buffers of a standardized term: the z-scores, their gradient, and each row's mean, D and std. */
    private double[] standardS = new double[0];
    private double[] standardT = new double[0];
    private double[] standardG = new double[0];
    private final double[] standardDs = new double[3];
    private final double[] standardDt = new double[3];
    /**
     * The soft-target KL term's integer temperature {@code n} while the cross-entropy evaluated right after
     * it takes {@code q^n} as its exponentials (0: it does not); set by {@link #row}, cleared by the
     * cross-entropy.
     */
    private int cePower;

    private void ensure(int c) {
        if (standardS.length < c) {
            standardS = new double[c];
            standardT = new double[c];
            standardG = new double[c];
        }
        if (s.length < c) {
            s = new double[c];
            t = new double[c];
            g = new double[c];
            p = new double[c];
            q = new double[c];
            u = new double[c];
        }
    }

    @Override
    double row(Batch b, int row, int label, double[] values) {
        int c = b.classes;
        ensure(c);
        b.student.read(row, s);
        double ms = checkedMax(s, c, "student_logits", row);
        double mt = 0;
        if (b.denseTeacher()) {
            b.teacher.read(row, t);
            mt = checkedMax(t, c, "teacher_logits", row);
        } else if (b.topK > 0) {
            sparse.load(b.teacher, row, c);
        }
        boolean wantGrad = b.grad != null;
        if (wantGrad) {
            Arrays.fill(g, 0, c, 0.0);
        }
        double total = 0;
        int n = b.terms.length;
        // a soft-target KL term at an integer temperature next to a cross-entropy goes just before it
        int kl = -1;
        int ce = -1;
        int power = 0;
        for (int i = 0; i + 1 < n && power == 0; i++) {
            if ((power = cePower(b.terms[i], b.terms[i + 1])) > 0) {
                kl = i;
                ce = i + 1;
            } else if ((power = cePower(b.terms[i + 1], b.terms[i])) > 0) {
                kl = i + 1;
                ce = i;
            }
        }
        cePower = 0;
        for (int k = 0; k < n; k++) {
            int i = ce < kl ? (k == ce ? kl : k == kl ? ce : k) : k;
            if (i == kl) {
                cePower = power;
            }
            FusedTerm term = b.terms[i];
            double gw = wantGrad ? term.weight() * b.gradScale : 0.0;
            double v = term.standardize()
                    ? standardized(b, i, c, label, wantGrad, gw, values)
                    : term(b, i, c, ms, mt, label, wantGrad, gw, values);
            values[b.slot[i]] = v;
            total += term.weight() * v;
        }
        if (wantGrad) {
            b.grad.write(row, g);
        }
        return total;
    }

    /** Term {@code i} of the batch on the row buffers, its gradient added to {@code g}. */
    private double term(Batch b, int i, int c, double ms, double mt, int label, boolean wantGrad, double gw,
                        double[] values) {
        FusedTerm term = b.terms[i];
        double tau = term.temperature();
        int at = b.slot[i];
        return switch (term.kind()) {
            case CROSS_ENTROPY -> crossEntropy(c, ms, label, term.labelSmoothing(), wantGrad, gw);
            case SOFT_TARGET_KL -> tau * tau * forwardKl(c, ms, mt, tau, wantGrad, gw * tau);
            case REVERSE_KL -> reverseKl(c, ms, mt, tau, wantGrad, gw / tau);
            case TOTAL_VARIATION -> totalVariation(c, ms, mt, tau, wantGrad, gw / tau);
            case GENERALIZED_JSD -> jsd(c, ms, mt, tau, term.teacherMixWeight(), wantGrad, gw / tau);
            case DKD -> ScalarGroupTerms.dkd(this, c, label, term, wantGrad, gw, values, at);
            case LTKD -> ScalarGroupTerms.ltkd(this, c, term, b.logRebalance[i], wantGrad, gw, values, at);
            case SPARSE_TOP_K_KL -> ScalarSparseTerms.kl(this, c, ms, term, wantGrad, gw);
            case SPARSE_TOP_K_TVD -> ScalarSparseTerms.tvd(this, c, ms, term, wantGrad, gw);
        };
    }

    /**
     * Term {@code i} on the z-scores of both rows ({@link io.kd4j.losses.logit.StandardizedLogits}): the
     * rows are standardized into spare buffers, the term runs on them with its gradient in a third, and
     * that gradient is taken back through the standardization and added to {@code g}.
     */
    private double standardized(Batch b, int i, int c, int label, boolean wantGrad, double gw, double[] values) {
        double[] s0 = s;
        double[] t0 = t;
        double[] g0 = g;
        double[] zs = standardS;
        double[] zt = standardT;
        double[] gz = standardG;
        double[] ds = standardDs;
        Standardize.zScores(s0, zs, c, ds);
        Standardize.zScores(t0, zt, c, standardDt);
        s = zs;
        t = zt;
        g = gz;
        if (wantGrad) {
            Arrays.fill(gz, 0, c, 0.0);
        }
        double v;
        try {
            v = term(b, i, c, Standardize.max(zs, c), Standardize.max(zt, c), label, wantGrad, gw, values);
        } finally {
            s = s0;
            t = t0;
            g = g0;
        }
        if (wantGrad) {
            Standardize.addBack(gz, s0, c, ds, g0);
        }
        return v;
    }

    @Override
    void groupMasses(Batch b, int row, FusedTerm term, double[] out) {
        int c = b.classes;
        ensure(c);
        b.teacher.read(row, t);
        checkedMax(t, c, "teacher_logits", row);
        ScalarGroupTerms.teacherGroupMasses(this, c, term, out);
    }

    /** The row maximum; a non-finite value anywhere in the row is an error naming it. */
    double checkedMax(double[] x, int c, String name, int row) {
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, x[j]);
            min = Math.min(min, x[j]);
        }
        if (!Double.isFinite(max) || !Double.isFinite(min)) {
            Kernels.rejectNonFinite(x, c, name, row);
        }
        return max;
    }

    /** Fills q with exp(s - ms); returns {Σ q, Σ s}. */
    double[] studentExps(int c, double ms) {
        double z = 0;
        double sum = 0;
        for (int j = 0; j < c; j++) {
            double b = Math.exp(s[j] - ms);
            q[j] = b;
            z += b;
            sum += s[j];
        }
        sums[0] = z;
        sums[1] = sum;
        return sums;
    }

    /** Replaces q with {@code q^n} (multiplications); returns {Σ q^n, Σ s}. */
    double[] studentPowers(int c, int n) {
        double z = 0;
        double sum = 0;
        for (int j = 0; j < c; j++) {
            double x = q[j];
            double b = x;
            for (int m = 1; m < n; m++) {
                b *= x;
            }
            q[j] = b;
            z += b;
            sum += s[j];
        }
        sums[0] = z;
        sums[1] = sum;
        return sums;
    }

    /** -Σ y log softmax(s), y = (1-e) onehot + e/C; gradient softmax(s) - y. */
    private double crossEntropy(int c, double ms, int label, double e, boolean wantGrad, double gw) {
        int power = cePower;
        cePower = 0;
        // after a KL term at temperature n, q = exp((s - ms) / n) and q^n = exp(s - ms)
        double[] zs = power > 0 ? studentPowers(c, power) : studentExps(c, ms);
        double z = zs[0];
        double sum = zs[1];
        double lse = ms + Math.log(z);
        double uniform = e / c;
        double value = lse - (1 - e) * s[label] - uniform * sum;
        if (wantGrad) {
            addScaled(c, gw / z, 0.0, -gw * uniform);
            g[label] -= gw * (1 - e);
        }
        return value;
    }

    /** {@code g += kq q + kp p + k0} ({@code p} is not read when {@code kp} is 0). */
    void addScaled(int c, double kq, double kp, double k0) {
        if (kp == 0) {
            for (int j = 0; j < c; j++) {
                g[j] += kq * q[j] + k0;
            }
        } else {
            for (int j = 0; j < c; j++) {
                g[j] += kq * q[j] + kp * p[j] + k0;
            }
        }
    }

    /** Fills p, q with the unnormalised exp of (t - mt)/T and (s - ms)/T; returns {zt, zs, Σ p(t-s), Σ q(s-t)}. */
    double[] exps(int c, double ms, double mt, double tau) {
        double inv = 1 / tau;
        double zt = 0;
        double zs = 0;
        double pd = 0;
        double qd = 0;
        for (int j = 0; j < c; j++) {
            double a = Math.exp((t[j] - mt) * inv);
            double b = Math.exp((s[j] - ms) * inv);
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

    /** KL(p ‖ q) = Σp(t-s)/(T zt) - lseT + lseS; gradient gw (q - p). */
    private double forwardKl(int c, double ms, double mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        double lseT = mt / tau + Math.log(z[0]);
        double lseS = ms / tau + Math.log(z[1]);
        double kl = z[2] / (tau * z[0]) - lseT + lseS;
        if (wantGrad) {
            addScaled(c, gw / z[1], -gw / z[0], 0.0);
        }
        return kl;
    }

    /** KL(q ‖ p); gradient gw q_j ((s_j - t_j)/T - lseS + lseT - KL). */
    private double reverseKl(int c, double ms, double mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        double shift = mt / tau + Math.log(z[0]) - ms / tau - Math.log(z[1]); // lseT - lseS
        double kl = z[3] / (tau * z[1]) + shift;
        if (wantGrad) {
            double is = 1 / z[1];
            double inv = 1 / tau;
            for (int j = 0; j < c; j++) {
                g[j] += gw * q[j] * is * ((s[j] - t[j]) * inv + shift - kl);
            }
        }
        return kl;
    }

    /** 0.5 Σ|q - p|; gradient gw (u - q Σu), u = 0.5 q sign(q - p). */
    private double totalVariation(int c, double ms, double mt, double tau, boolean wantGrad, double gw) {
        double[] z = exps(c, ms, mt, tau);
        double it = 1 / z[0];
        double is = 1 / z[1];
        double sum = 0;
        double su = 0;
        for (int j = 0; j < c; j++) {
            double qj = q[j] * is;
            double d = qj - p[j] * it;
            sum += Math.abs(d);
            su += 0.5 * qj * tieSign(d);
        }
        if (wantGrad) {
            for (int j = 0; j < c; j++) {
                double qj = q[j] * is;
                double d = qj - p[j] * it;
                g[j] += gw * (0.5 * qj * tieSign(d) - qj * su);
            }
        }
        return 0.5 * sum;
    }

    /** Generalized JSD (TRL's special cases at β = 0 and β = 1). */
    private double jsd(int c, double ms, double mt, double tau, double beta, boolean wantGrad, double gw) {
        if (beta == 0) {
            return forwardKl(c, ms, mt, tau, wantGrad, gw);
        }
        if (beta == 1) {
            return reverseKl(c, ms, mt, tau, wantGrad, gw);
        }
        double[] z = exps(c, ms, mt, tau);
        double inv = 1 / tau;
        double lzt = Math.log(z[0]);
        double lzs = Math.log(z[1]);
        double it = 1 / z[0];
        double is = 1 / z[1];
        double value = 0;
        double su = 0;
        for (int j = 0; j < c; j++) {
            // p, q from the stored exps; log m = log(βp + (1-β)q) directly: one log per class
            double pj = p[j] * it;
            double qj = q[j] * is;
            double logP = (t[j] - mt) * inv - lzt;
            double logQ = (s[j] - ms) * inv - lzs;
            double m = beta * pj + (1 - beta) * qj;
            double logM = m > Double.MIN_NORMAL ? Math.log(m)
                    : logAddExp(Math.log(beta) + logP, Math.log1p(-beta) + logQ);
            double klQ = weighted(qj, logQ, logM);
            value += beta * weighted(pj, logP, logM) + (1 - beta) * klQ;
            u[j] = (1 - beta) * klQ;
            su += u[j];
        }
        if (wantGrad) {
            for (int j = 0; j < c; j++) {
                g[j] += gw * (u[j] - q[j] * is * su);
            }
        }
        return value;
    }
}
