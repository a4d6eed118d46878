package io.kd4j.examples.bench;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The hot losses composed from ND4J operations, value and gradient, as a user would write them
 * without kd4j (the baseline of the kernel benchmark). The mask (a {@code [rows, 1]} column of 0/1,
 * or null) zeroes invalid rows; values are means over the valid rows.
 */
final class Nd4jLosses {
    private Nd4jLosses() {
    }

    record Out(double value, INDArray grad) {
    }

    static INDArray logSoftmax(INDArray x, double tau) {
        INDArray z = x.div(tau);
        INDArray max = z.max(1).reshape(-1, 1);
        z.subiColumnVector(max);
        INDArray lse = Transforms.log(Transforms.exp(z, true).sum(1), false).reshape(-1, 1);
        return z.subiColumnVector(lse);
    }

    private static double mean(INDArray rowValues, INDArray mask, int valid) {
        INDArray v = mask == null ? rowValues : rowValues.reshape(-1, 1).mul(mask);
        return v.sumNumber().doubleValue() / valid;
    }

    private static INDArray masked(INDArray grad, INDArray mask) {
        return mask == null ? grad : grad.muliColumnVector(mask);
    }

    /** T² KL(p ‖ q); gradient T (q - p) / n. */
    static Out kd(INDArray s, INDArray t, INDArray mask, int valid, double tau) {
        INDArray logP = logSoftmax(t, tau);
        INDArray logQ = logSoftmax(s, tau);
        INDArray p = Transforms.exp(logP, true);
        INDArray q = Transforms.exp(logQ, true);
        INDArray kl = p.mul(logP.sub(logQ)).sum(1);
        INDArray grad = q.subi(p).muli(tau / valid);
        return new Out(tau * tau * mean(kl, mask, valid), masked(grad, mask));
    }

    /** 0.1 CE + 0.9 KD(T). */
    static Out ceKd(INDArray s, INDArray t, INDArray oneHot, INDArray mask, int valid, double tau) {
        INDArray logQ1 = logSoftmax(s, 1.0);
        INDArray ce = oneHot.mul(logQ1).sum(1).negi();
        INDArray gradCe = Transforms.exp(logQ1, false).subi(oneHot).muli(0.1 / valid);
        Out kd = kd(s, t, mask, valid, tau);
        return new Out(0.1 * mean(ce, mask, valid) + 0.9 * kd.value(),
                masked(gradCe, mask).addi(kd.grad().muli(0.9)));
    }

    /** KL(q ‖ p); gradient q (log q - log p - KL) / (T n). */
    static Out reverseKl(INDArray s, INDArray t, INDArray mask, int valid, double tau) {
        INDArray logP = logSoftmax(t, tau);
        INDArray logQ = logSoftmax(s, tau);
        INDArray q = Transforms.exp(logQ, true);
        INDArray diff = logQ.sub(logP);
        INDArray kl = q.mul(diff).sum(1).reshape(-1, 1);
        INDArray grad = q.mul(diff.subiColumnVector(kl)).muli(1.0 / (tau * valid));
        return new Out(mean(kl, mask, valid), masked(grad, mask));
    }

    /** 0.5 Σ|q - p|; gradient (u - q Σu) / (T n), u = 0.5 q sign(q - p). */
    static Out totalVariation(INDArray s, INDArray t, INDArray mask, int valid, double tau) {
        INDArray p = Transforms.exp(logSoftmax(t, tau), false);
        INDArray q = Transforms.exp(logSoftmax(s, tau), false);
        INDArray d = q.sub(p);
        INDArray tv = Transforms.abs(d, true).sum(1).muli(0.5);
        INDArray u = q.mul(Transforms.sign(d, false)).muli(0.5);
        INDArray su = u.sum(1).reshape(-1, 1);
        INDArray grad = u.subi(q.mulColumnVector(su)).muli(1.0 / (tau * valid));
        return new Out(mean(tv, mask, valid), masked(grad, mask));
    }

    /** Jensen-Shannon (β = 0.5); gradient (u - q Σu) / (T n), u = 0.5 q (log q - log m). */
    static Out jensenShannon(INDArray s, INDArray t, INDArray mask, int valid, double tau) {
        INDArray logP = logSoftmax(t, tau);
        INDArray logQ = logSoftmax(s, tau);
        INDArray p = Transforms.exp(logP, true);
        INDArray q = Transforms.exp(logQ, true);
        INDArray logM = Transforms.log(p.add(q).muli(0.5), false);
        INDArray u = q.mul(logQ.sub(logM)).muli(0.5);
        INDArray value = p.mul(logP.subi(logM)).muli(0.5).sum(1).addi(u.sum(1));
        INDArray su = u.sum(1).reshape(-1, 1);
        INDArray grad = u.subi(q.mulColumnVector(su)).muli(1.0 / (tau * valid));
        return new Out(mean(value, mask, valid), masked(grad, mask));
    }
}
