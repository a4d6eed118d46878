package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Convolutional taps on a ComputationGraph student: AT across channel counts, FitNets with 1x1 + resize, RKD. */
class ConvFeatureTapsTest {
    static List<DataSet> train;
    static MultiLayerNetwork teacherNet;

    /** 1x6x6 images: one fixed random pattern per class plus noise. */
    static List<DataSet> images(int n, long seed) {
        Random c = new Random(5);
        float[][] patterns = new float[4][36];
        for (float[] p : patterns) {
            for (int i = 0; i < 36; i++) {
                p[i] = (float) c.nextGaussian();
            }
        }
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int y = r.nextInt(4);
            float[] x = new float[36];
            for (int j = 0; j < 36; j++) {
                x[j] = patterns[y][j] + (float) r.nextGaussian() * 0.8f;
            }
            float[] label = new float[4];
            label[y] = 1;
            out.add(new DataSet(Nd4j.create(x, 1, 1, 6, 6), Nd4j.create(label, 1, 4)));
        }
        return out;
    }

    @BeforeAll
    static void setUp() {
        train = images(192, 1);
        teacherNet = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(1e-2)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build())                                       // 0: [8, 6, 6]
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build()) // 1: [8, 3, 3]
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build())       // 2: [16]
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 1)).build());
        teacherNet.init();
        for (int e = 0; e < 3; e++) {
            teacherNet.fit(InMemoryDataSetIterator.of(train, 32));
        }
    }

    static ComputationGraph student() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(11).updater(new Adam(1e-2))
                .graphBuilder().addInputs("in")
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build(), "in")                                  // [4, 6, 6]
                .addLayer("p1", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                        "c1")                                                                        // [4, 3, 3]
                .addLayer("d1", new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build(), "p1")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build(), "d1")
                .setOutputs("out").setInputTypes(InputType.convolutional(6, 6, 1)).build());
        g.init();
        return g;
    }

    static FeatureDistiller distiller(int epochs) {
        return FeatureDistiller.builder().teacher(Teacher.of(teacherNet))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=4.0)")
                .tap(Tap.of("p1", "1", 100.0, "AttentionTransfer(p=2.0)"))           // channels 4 vs 8, no adapter
                .tap(Tap.of("c1", "1", 1.0, "FitNetsHint"))                          // [4,6,6] -> pool 2 -> 1x1 -> [8,3,3]
                .tap(Tap.of("d1", "2", 1.0, "RkdDistance"))                          // widths 8 vs 16, no adapter
                .epochs(epochs).seed(3).build();
    }

    @Test
    void givenGraphStudentWithConvTaps_whenTrained_thenAdaptersAsNeededAndPlainExportPredictsLikeTraining() {
        ComputationGraph user = student();
        InMemoryDataSetIterator it = InMemoryDataSetIterator.of(train, 32);
        FeatureTraining training = distiller(1).prepare(Student.of(user), it);
        ComputationGraphConfiguration conf = training.graph().getConfiguration();
        assertTrue(conf.getVertices().containsKey("kd_FitNetsHint_c1_resize"), conf.getVertices().keySet().toString());
        assertTrue(conf.getVertices().containsKey("kd_FitNetsHint_c1_adapter"));
        assertTrue(!conf.getVertices().containsKey("kd_AttentionTransfer_p1_adapter"), "AT needs no adapter");
        assertTrue(!conf.getVertices().containsKey("kd_RkdDistance_d1_adapter"), "RKD needs no adapter");
        TeacherTargetIterator logits = new TeacherTargetIterator(it, Teacher.of(teacherNet), TargetLayout.dense(4));
        FeatureTargetIterator data = training.iterator(logits);
        data.reset();
        training.graph().fit(data);
        for (FeatureLossFunction h : training.heads()) {
            assertTrue(Double.isFinite(h.lastValue()) && h.lastValue() > 0, h.term() + " = " + h.lastValue());
        }
        ComputationGraph plain = (ComputationGraph) training.exportPlain();
        assertEquals(user.getConfiguration().toJson(), plain.getConfiguration().toJson());
        INDArray x = images(16, 9).stream().map(DataSet::getFeatures).reduce((a, b) -> Nd4j.concat(0, a, b)).get();
        INDArray expected = new ActivationSoftmax().getActivation(training.mainLogits(x), false);
        assertTrue(expected.equalsWithEps(plain.outputSingle(x), 1e-6), "exported student predicts like the training copy");
    }

    @Test
    void givenConvTaps_whenDistilled_thenNamedTermsReported() {
        DistillationResult r = distiller(2).distill(Student.of(student()), InMemoryDataSetIterator.of(train, 32));
        Map<String, Double> terms = r.report().finalTerms();
        for (String name : List.of("AttentionTransfer@p1", "FitNetsHint@c1", "RkdDistance@d1", "SoftTargetKl")) {
            assertTrue(terms.containsKey(name), name + " in " + terms);
        }
        assertEquals(2, r.report().epochs().size());
        assertTrue(r.student() instanceof ComputationGraph);
    }
}
