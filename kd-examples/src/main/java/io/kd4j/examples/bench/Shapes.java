package io.kd4j.examples.bench;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The benchmark shapes: {@code 256x1000}, {@code 2048x32000} and the masked sequence
 * {@code 16x32000x128} (batch 16, vocabulary 32000, 128 time steps). A sequence reaches the loss as
 * DL4J's RNN output layer passes it, {@code [batch·time, classes]} rows with a per-row mask; here
 * every sequence has a random length in [32, 128], so about 60 % of the rows are valid.
 */
final class Shapes {
    private Shapes() {
    }

    record Shape(int rows, int classes, boolean[] valid) {
        int validRows() {
            if (valid == null) {
                return rows;
            }
            int n = 0;
            for (boolean v : valid) {
                n += v ? 1 : 0;
            }
            return n;
        }

        /** Bytes a loss must move at least: read student and teacher of valid rows, write the gradient. */
        double minimumBytes() {
            return 4.0 * classes * (2.0 * validRows() + rows);
        }
    }

    static Shape parse(String name) {
        String[] p = name.split("x");
        if (p.length == 2) {
            return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), null);
        }
        int batch = Integer.parseInt(p[0]);
        int classes = Integer.parseInt(p[1]);
        int time = Integer.parseInt(p[2]);
        Random rnd = new Random(17);
        boolean[] valid = new boolean[batch * time];
        for (int b = 0; b < batch; b++) {
            int len = 32 + rnd.nextInt(time - 31);
            for (int t = 0; t < len; t++) {
                valid[b * time + t] = true;
            }
        }
        return new Shape(batch * time, classes, valid);
    }

    /** Gaussian logits with standard deviation 3, float32, c-ordered. */
    static INDArray logits(int rows, int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, rows, classes).muli(3);
    }

    static int[] labels(int rows, int classes) {
        Random rnd = new Random(5);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = rnd.nextInt(classes);
        }
        return y;
    }
}
