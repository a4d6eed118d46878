package io.kd4j.examples.bench;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The benchmark shapes: {@code 256x1000}, {@code 2048x32000} and the masked sequence
 * {@code 16x32000x128} (batch 16, vocabulary 32000, 128 time steps). A sequence reaches the loss as
 * DL4J's RNN output layer passes it, {@code [batch·time, classes]} rows with a per-row mask; here
 * every sequence has a random length in [32, time] (time 128: about 60 % of the rows are valid).
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
            return minimumBytes(4, classes);
        }

        /**
         * Bytes a loss must move at least with values of {@code width} bytes and a teacher row of
         * {@code teacherWidth} values: student and teacher of the valid rows read once, the gradient of
         * every row written once.
         */
        double minimumBytes(int width, int teacherWidth) {
            return (double) width * ((double) (classes + teacherWidth) * validRows() + (double) classes * rows);
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
            int shortest = Math.min(32, time);
            int len = shortest + rnd.nextInt(time - shortest + 1);
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

    /** LTKD's class groups by index: the first third of the classes head, the next medium, the rest tail. */
    static String thirds(int classes) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < classes; j++) {
            b.append(j == 0 ? "" : ";").append(new String[] {"head", "medium", "tail"}[third(j, classes)]);
        }
        return b.toString();
    }

    /** The groups of {@link #thirds} as a one-hot {@code [classes, 3]} float matrix. */
    static INDArray thirdsMatrix(int classes) {
        float[] g = new float[classes * 3];
        for (int j = 0; j < classes; j++) {
            g[j * 3 + third(j, classes)] = 1f;
        }
        return Nd4j.create(g, new long[] {classes, 3}, 'c');
    }

    private static int third(int j, int classes) {
        return (int) Math.min(2, 3L * j / classes);
    }
}
