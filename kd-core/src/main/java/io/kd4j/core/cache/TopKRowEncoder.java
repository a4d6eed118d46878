package io.kd4j.core.cache;

import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/** Encodes one row of logits as a top-k record (scratch reused across rows). */
final class TopKRowEncoder {
    private final int classes;
    private final TopKCacheOptions options;
    private final int[] top;
    private final double[] topVal;
    private final boolean[] inTop;

    TopKRowEncoder(int classes, TopKCacheOptions options) {
        this.classes = classes;
        this.options = options;
        this.top = new int[options.k()];
        this.topVal = new double[options.k()];
        this.inTop = new boolean[classes];
    }

    void write(double[] x, int off, DataOutputStream out, long example) throws IOException {
        int k = options.k();
        double tau = options.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            double v = x[off + j];
            if (!Double.isFinite(v)) {
                throw new IllegalStateException("teacher produced a non-finite logit (" + v + ") at example "
                        + example + ", class " + j + "; refusing to cache it");
            }
            max = Math.max(max, v / tau);
        }
        double sum = 0;
        for (int j = 0; j < classes; j++) {
            sum += Math.exp(x[off + j] / tau - max);
        }
        double lse = max + Math.log(sum);
        // top-k by a min-heap of size k (root = smallest kept)
        int size = 0;
        for (int j = 0; j < classes; j++) {
            double v = x[off + j];
            if (size < k) {
                top[size] = j;
                topVal[size] = v;
                up(size++);
            } else if (v > topVal[0]) {
                top[0] = j;
                topVal[0] = v;
                down(k);
            }
        }
        double restSum = 0;
        Arrays.fill(inTop, false);
        for (int i = 0; i < k; i++) {
            inTop[top[i]] = true;
        }
        for (int j = 0; j < classes; j++) {
            if (!inTop[j]) {
                restSum += Math.exp(x[off + j] / tau - max);
            }
        }
        for (int i = 0; i < k; i++) {
            if (classes <= 65536) {
                out.writeShort(top[i]);
            } else {
                out.writeInt(top[i]);
            }
        }
        for (int i = 0; i < k; i++) {
            float lp = (float) (topVal[i] / tau - lse);
            if (options.float16()) {
                out.writeShort(Half.fromFloat(lp));
            } else {
                out.writeFloat(lp);
            }
        }
        out.writeFloat(restSum == 0 ? Float.NEGATIVE_INFINITY : (float) (max + Math.log(restSum) - lse));
    }

    private void up(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (topVal[parent] <= topVal[i]) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void down(int n) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) {
                return;
            }
            int m = l + 1 < n && topVal[l + 1] < topVal[l] ? l + 1 : l;
            if (topVal[i] <= topVal[m]) {
                return;
            }
            swap(i, m);
            i = m;
        }
    }

    private void swap(int a, int b) {
        int ti = top[a];
        top[a] = top[b];
        top[b] = ti;
        double tv = topVal[a];
        topVal[a] = topVal[b];
        topVal[b] = tv;
    }
}
