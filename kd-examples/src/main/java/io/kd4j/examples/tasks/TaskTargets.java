package io.kd4j.examples.tasks;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Targets derived from Fashion-MNIST for the tasks beyond single-label classification: class-level
 * attributes (multi-label), a continuous function of the pixels (regression), and 2×2-pooled images
 * (for the ranking lists). Every target is a fixed function of the class or of the image: nothing is
 * annotated by hand and nothing is random.
 */
public final class TaskTargets {
    /** The attribute names, in column order. */
    public static final List<String> ATTRIBUTES = List.of("upper-body", "covers-legs", "long-sleeves", "footwear",
            "closed-shoe", "carried");
    /**
     * The classes that have each attribute (Fashion-MNIST classes: 0 T-shirt/top, 1 Trouser, 2 Pullover,
     * 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot): worn on the upper body
     * {0, 2, 3, 4, 6}; covers the legs {1, 3}; long sleeves {2, 4, 6}; footwear {5, 7, 9}; closed shoe
     * {7, 9}; carried, not worn {8}.
     */
    static final int[][] ATTRIBUTE_CLASSES = {{0, 2, 3, 4, 6}, {1, 3}, {2, 4, 6}, {5, 7, 9}, {7, 9}, {8}};
    /** Pixels brighter than this count as bright for {@link #brightTopHalf}. */
    public static final double BRIGHT = 0.5;

    private TaskTargets() {
    }

    /** Whether class {@code cls} has attribute {@code attribute}. */
    public static boolean hasAttribute(int cls, int attribute) {
        for (int c : ATTRIBUTE_CLASSES[attribute]) {
            if (c == cls) {
                return true;
            }
        }
        return false;
    }

    /** The multi-hot attribute labels {@code [n, 6]} of classes. */
    public static boolean[][] attributes(int[] classes) {
        boolean[][] out = new boolean[classes.length][ATTRIBUTES.size()];
        for (int i = 0; i < classes.length; i++) {
            for (int a = 0; a < ATTRIBUTES.size(); a++) {
                out[i][a] = hasAttribute(classes[i], a);
            }
        }
        return out;
    }

    /**
     * The regression target of each 28×28 image ({@code [n, 784]}, values in [0, 1]): the fraction of
     * the 392 pixels of its top half (rows 0 to 13) that are brighter than {@value #BRIGHT}.
     */
    public static double[] brightTopHalf(INDArray images) {
        int n = (int) images.size(0);
        if (images.size(1) != 784) {
            throw new IllegalArgumentException("images must be [n, 784] (28x28), got width " + images.size(1));
        }
        float[] x = images.castTo(DataType.FLOAT).dup('c').data().asFloat();
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            int bright = 0;
            for (int p = 0; p < 392; p++) {
                bright += x[i * 784 + p] > BRIGHT ? 1 : 0;
            }
            y[i] = bright / 392.0;
        }
        return y;
    }

    /** 28×28 images {@code [n, 784]} to 14×14 {@code [n, 196]}, each pixel the mean of a 2×2 block. */
    public static INDArray pool2(INDArray images) {
        int n = (int) images.size(0);
        float[] x = images.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out = new float[n * 196];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < 14; r++) {
                for (int c = 0; c < 14; c++) {
                    int p = i * 784 + 2 * r * 28 + 2 * c;
                    out[i * 196 + r * 14 + c] = (x[p] + x[p + 1] + x[p + 28] + x[p + 29]) / 4f;
                }
            }
        }
        return Nd4j.create(out, new long[] {n, 196}, 'c');
    }

    /** A column {@code [n, 1]} or matrix of doubles as a float array. */
    public static INDArray column(double[] values) {
        return Nd4j.create(values, new long[] {values.length, 1}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }

    /** Boolean rows as a 0/1 float matrix. */
    public static INDArray matrix(boolean[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < rows[0].length; j++) {
                out[i * rows[0].length + j] = rows[i][j] ? 1f : 0f;
            }
        }
        return Nd4j.create(out, new long[] {rows.length, rows[0].length}, 'c');
    }

    /** A matrix as double rows. */
    public static double[][] rows(INDArray m) {
        return m.castTo(DataType.DOUBLE).toDoubleMatrix();
    }
}
