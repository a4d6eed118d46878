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

    /**
     * DKD (mdistiller's {@code dkd_loss} with exact masks instead of its {@code -1000} trick), warm-up
     * factor 1: {@code T² mean(α TCKD + β NCKD)}; gradient as in {@code Dkd}'s Javadoc.
     */
    static Out dkd(INDArray s, INDArray t, INDArray oneHot, INDArray mask, int valid, double tau, double alpha,
                   double beta) {
        INDArray p = Transforms.exp(logSoftmax(t, tau), false);
        INDArray q = Transforms.exp(logSoftmax(s, tau), false);
        INDArray other = oneHot.rsub(1.0);
        INDArray pt = p.mul(oneHot).sum(1).reshape(-1, 1);
        INDArray qt = q.mul(oneHot).sum(1).reshape(-1, 1);
        INDArray pn = pt.rsub(1.0);
        INDArray qn = qt.rsub(1.0);
        INDArray tckd = pt.mul(Transforms.log(pt, true).subi(Transforms.log(qt, true)))
                .addi(pn.mul(Transforms.log(pn, true).subi(Transforms.log(qn, true))));
        INDArray ph = p.mul(other).diviColumnVector(pn);
        INDArray qh = q.mul(other).diviColumnVector(qn);
        // log(x + y): 0 at the target class, where p^ = q^ = 0
        INDArray nckd = ph.mul(Transforms.log(ph.add(oneHot), false).subi(Transforms.log(qh.add(oneHot), false)))
                .sum(1).reshape(-1, 1);
        INDArray rows = tckd.muli(alpha).addi(nckd.muli(beta));
        INDArray grad = qh.mulColumnVector(qn.sub(pn)).muli(alpha).addi(qh.sub(ph).muli(beta))
                .addi(oneHot.mulColumnVector(qt.sub(pt)).muli(alpha)).muli(tau / valid);
        return new Out(tau * tau * mean(rows, mask, valid), masked(grad, mask));
    }

    /**
     * LTKD with rebalancing and reweighting, both weights 1 and three non-empty groups given as a
     * {@code [classes, 3]} one-hot matrix; the group masses are {@code p · G}, the rebalancing weights the
     * batch means of the valid rows.
     */
    static Out ltkd(INDArray s, INDArray t, INDArray groups, INDArray mask, int valid, double tau) {
        INDArray p = Transforms.exp(logSoftmax(t, tau), false);
        INDArray q = Transforms.exp(logSoftmax(s, tau), false);
        INDArray big = p.mmul(groups);
        INDArray small = q.mmul(groups);
        INDArray mean = (mask == null ? big : big.mulColumnVector(mask)).sum(0).divi(valid).reshape(1, -1);
        INDArray hat = big.mulRowVector(mean.rdiv(1.0 / 3));
        hat.diviColumnVector(hat.sum(1).reshape(-1, 1));
        INDArray cross = hat.mul(Transforms.log(hat, true).subi(Transforms.log(small, true))).sum(1);
        INDArray pg = p.div(big.mmul(groups.transpose()));
        INDArray qg = q.div(small.mmul(groups.transpose()));
        INDArray within = pg.mul(Transforms.log(pg, true).subi(Transforms.log(qg, true))).sum(1);
        INDArray grad = small.sub(hat).mmul(groups.transpose()).muli(qg).addi(qg.sub(pg)).muli(tau / valid);
        return new Out(tau * tau * mean(cross.addi(within), mask, valid), masked(grad, mask));
    }

    /**
     * Sparse top-k KL over k + 1 bins ({@code SparseTopKKl}, teacher at the loss's temperature). The top-k
     * teacher comes as dense {@code [rows, classes]} arrays: probabilities {@code P} and log-probabilities
     * {@code LP} (0 outside the top-k) and the top-k marker {@code M}, plus the rest mass {@code r} and its
     * log {@code [rows, 1]}; scattering them from the packed indices is left out of the timing.
     */
    static Out sparseKl(INDArray s, INDArray prob, INDArray logProb, INDArray top, INDArray rest, INDArray logRest,
                        INDArray mask, int valid, double tau) {
        INDArray logQ = logSoftmax(s, tau);
        INDArray q = Transforms.exp(logQ, true);
        INDArray outside = top.rsub(1.0);
        INDArray qRest = q.mul(outside).sum(1).reshape(-1, 1);
        INDArray value = prob.mul(logProb.sub(logQ)).sum(1).reshape(-1, 1)
                .addi(rest.mul(logRest.sub(Transforms.log(qRest, true))));
        INDArray grad = q.sub(prob).subi(q.mul(outside).muliColumnVector(rest.div(qRest))).muli(tau / valid);
        return new Out(tau * tau * mean(value, mask, valid), masked(grad, mask));
    }
}
