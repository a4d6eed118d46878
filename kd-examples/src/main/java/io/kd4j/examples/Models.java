package io.kd4j.examples;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The example networks: plain DL4J definitions, nothing kd4j-specific. */
public final class Models {
    private Models() {
    }

    /**
     * Teacher: a small CNN for 28×28 grey images (conv 5×5×16, max-pool, conv 5×5×32, max-pool,
     * dense 128 with dropout 0.5, softmax 10; about 80k parameters).
     */
    public static MultiLayerNetwork cnnTeacher(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.RELU)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(16).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(32).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).dropOut(0.5).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * Student: a small CNN (conv 5×5×{@code channels}, max-pool, dense {@code hidden}, softmax 10),
     * about 7× less computation than {@link #cnnTeacher} at 8 channels.
     */
    public static MultiLayerNetwork cnnStudent(long seed, int channels, int hidden) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.RELU)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(channels).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** Student: an MLP 784-hidden-10 (softmax), trained the same way with or without KD. */
    public static MultiLayerNetwork mlpStudent(long seed, int hidden) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(784).nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * An MLP {@code inputs}-{@code hidden...}-{@code outputs} with ReLU hidden layers, Xavier
     * initialisation and Adam 1e-3, and the given output activation and loss (e.g. softmax + MCXENT for a
     * classifier, sigmoid + XENT for multi-label, identity + MSE for regression).
     */
    public static MultiLayerNetwork mlp(long seed, int inputs, int[] hidden, int outputs, Activation output,
                                        ILossFunction loss) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list();
        int in = inputs;
        for (int h : hidden) {
            list.layer(new DenseLayer.Builder().nIn(in).nOut(h).activation(Activation.RELU).build());
            in = h;
        }
        list.layer(new OutputLayer.Builder(loss).nIn(in).nOut(outputs).activation(output).build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }

    /** A softmax classifier MLP {@code inputs}-{@code hidden...}-{@code classes} (MCXENT). */
    public static MultiLayerNetwork mlpClassifier(long seed, int inputs, int[] hidden, int classes) {
        return mlp(seed, inputs, hidden, classes, Activation.SOFTMAX, LossFunctions.LossFunction.MCXENT.getILossFunction());
    }

    /**
     * A shared pair scorer for ranking lists ({@code RankingLists}): input {@code [lists, pairWidth, 1,
     * candidates]}, two 1×1 convolutions ({@code pairWidth} → {@code hidden} ReLU → 1) that score every
     * column with the same weights, and a parameterless softmax {@code LossLayer} (MCXENT) over the
     * candidates of a list; Xavier, Adam 1e-3.
     */
    public static MultiLayerNetwork pairScorer(long seed, int pairWidth, int candidates, int hidden) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(hidden).activation(Activation.RELU).build())
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(1).activation(Activation.IDENTITY).build())
                .layer(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(1, candidates, pairWidth))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
