package io.kd4j.examples.bench;

import java.util.PriorityQueue;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A top-k teacher made from dense teacher logits for the kernel benchmark: per row the k largest
 * classes and their log-probabilities {@code log_softmax(t / T)}, packed {@code [k indices | k
 * log-probabilities]} for the fused kernel, and scattered into dense arrays for the ND4J composition.
 *
 * @param packed {@code [rows, 2k]} float32
 * @param prob {@code [rows, classes]}: the top-k probabilities, 0 elsewhere
 * @param logProb {@code [rows, classes]}: the top-k log-probabilities, 0 elsewhere
 * @param top {@code [rows, classes]}: 1 for a top-k class, 0 elsewhere
 * @param rest {@code [rows, 1]}: the teacher's mass outside the top-k
 * @param logRest {@code [rows, 1]}: its log
 */
record SparseTeacher(INDArray packed, INDArray prob, INDArray logProb, INDArray top, INDArray rest, INDArray logRest) {

    static SparseTeacher of(INDArray teacherLogits, int k, double tau) {
        int n = (int) teacherLogits.size(0);
        int c = (int) teacherLogits.size(1);
        float[] t = teacherLogits.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] packed = new float[n * 2 * k];
        float[] prob = new float[n * c];
        float[] logProb = new float[n * c];
        float[] top = new float[n * c];
        float[] rest = new float[n];
        float[] logRest = new float[n];
        for (int i = 0; i < n; i++) {
            int off = i * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, t[off + j] / tau);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(t[off + j] / tau - max);
            }
            double lse = max + Math.log(sum);
            PriorityQueue<Integer> heap = new PriorityQueue<>(k, (a, b) -> Float.compare(t[off + a], t[off + b]));
            for (int j = 0; j < c; j++) {
                if (heap.size() < k) {
                    heap.add(j);
                } else if (t[off + j] > t[off + heap.peek()]) {
                    heap.poll();
                    heap.add(j);
                }
            }
            double mass = 0;
            for (int m = 0; m < k; m++) {
                int j = heap.poll();
                float lp = (float) Math.min(0.0, t[off + j] / tau - lse);
                packed[i * 2 * k + m] = j;
                packed[i * 2 * k + k + m] = lp;
                prob[off + j] = (float) Math.exp(lp);
                logProb[off + j] = lp;
                top[off + j] = 1f;
                mass += Math.exp(lp);
            }
            rest[i] = (float) Math.max(0.0, 1 - mass);
            logRest[i] = (float) Math.log(rest[i]);
        }
        return new SparseTeacher(Nd4j.create(packed, new long[] {n, 2L * k}, 'c'), Nd4j.create(prob, new long[] {n, c}, 'c'),
                Nd4j.create(logProb, new long[] {n, c}, 'c'), Nd4j.create(top, new long[] {n, c}, 'c'),
                Nd4j.create(rest, new long[] {n, 1}, 'c'), Nd4j.create(logRest, new long[] {n, 1}, 'c'));
    }
}
