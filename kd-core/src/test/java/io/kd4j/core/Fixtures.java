package io.kd4j.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import io.kd4j.core.data.InMemoryDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small synthetic data and networks for kd-core tests (Gaussian blobs, tiny MLPs). */
public final class Fixtures {
    public static final int FEATURES = 12;
    public static final int CLASSES = 4;

    private Fixtures() {
    }

    /** {@code n} examples of {@link #CLASSES} Gaussian blobs in {@link #FEATURES} dimensions. */
    public static List<DataSet> blobs(int n, long seed) {
        Random rnd = new Random(seed);
        double[][] centres = new double[CLASSES][FEATURES];
        Random c = new Random(99);
        for (double[] centre : centres) {
            for (int j = 0; j < FEATURES; j++) {
                centre[j] = c.nextGaussian() * 1.5;
            }
        }
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int y = rnd.nextInt(CLASSES);
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (centres[y][j] + rnd.nextGaussian());
            }
            float[] label = new float[CLASSES];
            label[y] = 1;
            out.add(new DataSet(Nd4j.create(x, 1, FEATURES), Nd4j.create(label, 1, CLASSES)));
        }
        return out;
    }

    /** An iterator over the examples in fixed order. */
    public static InMemoryDataSetIterator iterator(List<DataSet> examples, int batch) {
        return InMemoryDataSetIterator.of(examples, batch);
    }

    /** A small MLP with a softmax + MCXENT output, initialised with {@code seed}. */
    public static MultiLayerNetwork mlp(int hidden, long seed, double dropout) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-2))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(FEATURES).nOut(hidden).activation(Activation.RELU)
                        .dropOut(dropout > 0 ? 1 - dropout : 0).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build());
        MultiLayerConfiguration conf = b.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** A teacher MLP trained on the examples for a few epochs. */
    public static MultiLayerNetwork trainedTeacher(List<DataSet> examples) {
        MultiLayerNetwork t = mlp(32, 7, 0.0);
        for (int e = 0; e < 5; e++) {
            t.fit(iterator(examples, 32));
        }
        return t;
    }
}
