package io.kd4j.losses.testing;

/**
 * Independent double-precision reference formulas for the divergence losses, written plainly from the
 * reference PyTorch code (TRL {@code generalized_jsd_loss}, DistiLLM {@code losses.py}, DistillKit
 * {@code sparse_kl_div}/{@code sparse_tvd}): probabilities by direct {@code exp}, mixtures in probability
 * space, no log-space tricks and no kd4j classes. For moderate logits only.
 */
public final class DivergenceReference {
    private DivergenceReference() {
    }

    /** KL(q_student || p_teacher) at temperature T (DistiLLM {@code reverse_kl}, TRL beta=1). */
    public static double reverseKl(double[] teacher, double[] student, double t) {
        return Reference.kl(Reference.softmax(student, t), Reference.softmax(teacher, t));
    }

    /** TRL {@code generalized_jsd_loss} for one row, including its beta = 0 and beta = 1 special cases. */
    public static double trlGeneralizedJsd(double[] teacher, double[] student, double beta, double t) {
        double[] p = Reference.softmax(teacher, t);
        double[] q = Reference.softmax(student, t);
        if (beta == 0) {
            return Reference.kl(p, q);
        }
        if (beta == 1) {
            return Reference.kl(q, p);
        }
        double[] m = new double[p.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = beta * p[i] + (1 - beta) * q[i];
        }
        return beta * Reference.kl(p, m) + (1 - beta) * Reference.kl(q, m);
    }

    /** 0.5 sum |p - q| (DistiLLM {@code tv_distance}). */
    public static double totalVariation(double[] teacher, double[] student, double t) {
        double[] p = Reference.softmax(teacher, t);
        double[] q = Reference.softmax(student, t);
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s += Math.abs(p[i] - q[i]);
        }
        return 0.5 * s;
    }

    /** KL(p || a p + (1 - a) q), the true skew KL. */
    public static double skewKl(double[] teacher, double[] student, double a, double t) {
        double[] p = Reference.softmax(teacher, t);
        double[] q = Reference.softmax(student, t);
        double[] m = new double[p.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = a * p[i] + (1 - a) * q[i];
        }
        return Reference.kl(p, m);
    }

    /** DistiLLM {@code skewed_forward_kl} for one row: the cross-entropy form -sum p log(a p + (1 - a) q). */
    public static double distillmSkewedForwardKl(double[] teacher, double[] student, double a, double t) {
        double[] p = Reference.softmax(teacher, t);
        double[] q = Reference.softmax(student, t);
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s -= p[i] * Math.log(a * p[i] + (1 - a) * q[i]);
        }
        return s;
    }

    /** DistiLLM {@code skewed_reverse_kl} for one row: KL(q || (1 - a) p + a q). */
    public static double skewReverseKl(double[] teacher, double[] student, double a, double t) {
        double[] p = Reference.softmax(teacher, t);
        double[] q = Reference.softmax(student, t);
        double[] m = new double[p.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = (1 - a) * p[i] + a * q[i];
        }
        return Reference.kl(q, m);
    }

    /**
     * DistillKit {@code sparse_kl_div} (SYMMETRIC_UNIFORM, no eps) for one row, times T²:
     * {@code T² [sum_top p log(p / q) + r log(r / q_rest)]}, r = 1 - sum p, q_rest = 1 - sum_top q.
     */
    public static double sparseKl(int[] top, double[] topLogProbs, double[] student, double t) {
        double[] q = Reference.softmax(student, t);
        double r = 1;
        double qRest = 1;
        double s = 0;
        for (int i = 0; i < top.length; i++) {
            double p = Math.exp(topLogProbs[i]);
            r -= p;
            qRest -= q[top[i]];
            s += p * Math.log(p / q[top[i]]);
        }
        if (r > 0) {
            s += r * Math.log(r / qRest);
        }
        return t * t * s;
    }

    /** DistillKit {@code sparse_tvd} (SYMMETRIC_UNIFORM), no T²: 0.5 [sum_top |p - q| + |r - q_rest|]. */
    public static double sparseTvd(int[] top, double[] topLogProbs, double[] student, double t) {
        double[] q = Reference.softmax(student, t);
        double r = 1;
        double qRest = 1;
        double s = 0;
        for (int i = 0; i < top.length; i++) {
            double p = Math.exp(topLogProbs[i]);
            r -= p;
            qRest -= q[top[i]];
            s += Math.abs(p - q[top[i]]);
        }
        return 0.5 * (s + Math.abs(r - qRest));
    }

    /** Central finite-difference gradient of a row function with respect to its student logits. */
    public static double[] numericGradient(java.util.function.ToDoubleFunction<double[]> f, double[] student) {
        double eps = 1e-6;
        double[] g = new double[student.length];
        for (int i = 0; i < student.length; i++) {
            double[] plus = student.clone();
            double[] minus = student.clone();
            plus[i] += eps;
            minus[i] -= eps;
            g[i] = (f.applyAsDouble(plus) - f.applyAsDouble(minus)) / (2 * eps);
        }
        return g;
    }
}
