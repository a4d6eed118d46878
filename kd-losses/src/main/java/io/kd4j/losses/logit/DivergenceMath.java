package io.kd4j.losses.logit;

/**
 * Shared arithmetic of the divergence losses (package-private).
 *
 * <p>Every loss here is a function {@code f(q)} of the student distribution {@code q = softmax(s / T)}
 * (the teacher being a constant). With {@code u_j = q_j · ∂f/∂q_j}, the chain rule through the softmax
 * gives {@code ∂f/∂s_k = (u_k - q_k · Σ_j u_j) / T}, whose entries sum to zero. The losses compute
 * {@code u} in log space (products such as {@code q·p/m} as {@code exp(log q + log p - log m)}) so that
 * ±1e4 logits stay finite.
 */
final class DivergenceMath {
    private DivergenceMath() {
    }

    /**
     * Writes {@code scale · (u_k - q_k Σ u) } into {@code grad[off..off+c)}, where {@code u} is at
     * {@code u[uOff..uOff+c)} and {@code log q} at {@code logQ[qOff..qOff+c)}.
     */
    static void softmaxChain(double[] u, int uOff, double[] logQ, int qOff, int c, double scale, double[] grad,
                             int off) {
        double sum = 0;
        for (int j = 0; j < c; j++) {
            sum += u[uOff + j];
        }
        for (int j = 0; j < c; j++) {
            grad[off + j] = scale * (u[uOff + j] - Math.exp(logQ[qOff + j]) * sum);
        }
    }

    /** {@code log(1 - exp(x))} for {@code x <= 0}, stable at both ends; {@code -inf} for {@code x >= 0}. */
    static double log1mExp(double x) {
        if (x >= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        return x > -0.6931471805599453 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
    }

    /** {@code a · (b - c)} with the convention {@code 0 · anything = 0} (so that {@code 0 · (-inf)} is 0). */
    static double weighted(double a, double b, double c) {
        return a == 0 ? 0.0 : a * (b - c);
    }

    /**
     * Probability differences at most this large are ties for the TVD subgradient: two routes to the
     * same probability (a stored teacher log-probability and the student's log-softmax) differ by a few
     * ulps, and a sign taken of that rounding noise would give an O(q) gradient at equality.
     */
    static final double TIE = 1e-12;

    /** The TVD subgradient's sign of a probability difference: 0 for a tie ({@code |x| <= TIE}), else ±1. */
    static double tieSign(double x) {
        return x > TIE ? 1.0 : x < -TIE ? -1.0 : 0.0;
    }
}
