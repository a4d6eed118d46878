package io.kd4j.examples.scale;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Synthetic data and tiny networks for the scale-out tests (Gaussian blobs, small MLPs). */
final class Blobs {
    static final int FEATURES = 12;
    static final int CLASSES = 4;

    private Blobs() {
    }

    /** {@code n} examples of {@link #CLASSES} Gaussian blobs, one example per data set. */
    static List<DataSet> examples(int n, long seed) {
        Random rnd = new Random(seed);
        Random c = new Random(99);
        double[][] centres = new double[CLASSES][FEATURES];
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

    static InMemoryDataSetIterator iterator(List<DataSet> examples, int batch) {
        return InMemoryDataSetIterator.of(examples, batch);
    }

    /** Consecutive batches of {@code batch} examples, in order. */
    static List<DataSet> batches(List<DataSet> examples, int batch) {
        List<DataSet> out = new ArrayList<>();
        InMemoryDataSetIterator it = iterator(examples, batch);
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    static MultiLayerNetwork mlp(int hidden, long seed, IUpdater updater) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(FEATURES).nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    static MultiLayerNetwork sgdStudent(long seed) {
        return mlp(8, seed, new Sgd(0.1));
    }

    static MultiLayerNetwork trainedTeacher(List<DataSet> examples) {
        MultiLayerNetwork t = mlp(32, 7, new Adam(1e-2));
        for (int e = 0; e < 5; e++) {
            t.fit(iterator(examples, 32));
        }
        return t;
    }

    /** A teacher that records the names of the threads it ran on. */
    static final class ThreadRecordingTeacher implements Teacher {
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        private final Teacher inner;

        ThreadRecordingTeacher(Teacher inner) {
            this.inner = inner;
        }

        @Override
        public INDArray logits(TeacherBatch batch) {
            threads.add(Thread.currentThread().getName());
            return inner.logits(batch);
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public String fingerprint() {
            return inner.fingerprint();
        }
    }
}
