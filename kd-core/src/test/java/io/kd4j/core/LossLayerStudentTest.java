package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A student whose last layer is a parameterless {@code LossLayer}: a shared candidate scorer (1×1
 * convolutions over a row of candidates, flattened to one score per candidate), as ranking students
 * are built. Its width is the loss layer's input width.
 */
class LossLayerStudentTest {
    static final int FEATURES = 3;
    static final int CANDIDATES = 4;
    /** The teacher's fixed linear scorer: score(x) = W·x. */
    static final double[] W = {1.5, -2.0, 0.5};

    /** Input [n, FEATURES, 1, CANDIDATES] → 1×1 conv (one score per candidate, shared weights) → LossLayer. */
    static MultiLayerNetwork scorer(boolean inputType) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(5).updater(new Adam(0.05))
                .dataType(DataType.DOUBLE).list()
                .layer(new ConvolutionLayer.Builder(1, 1).nIn(FEATURES).nOut(1).activation(Activation.IDENTITY).build())
                .layer(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX).build());
        MultiLayerConfiguration conf = inputType ? b.setInputType(InputType.convolutional(1, CANDIDATES, FEATURES)).build()
                : b.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** The teacher's scores for [n, FEATURES, 1, CANDIDATES] candidates: [n, CANDIDATES]. */
    static Teacher linearTeacher() {
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                INDArray x = batch.features();
                INDArray s = Nd4j.zeros(DataType.DOUBLE, x.size(0), CANDIDATES);
                for (int f = 0; f < FEATURES; f++) {
                    s.addi(x.get(NDArrayIndex.all(), NDArrayIndex.point(f), NDArrayIndex.point(0), NDArrayIndex.all())
                            .castTo(DataType.DOUBLE).mul(W[f]));
                }
                return s;
            }

            @Override
            public String describe() {
                return "linear scorer " + java.util.Arrays.toString(W);
            }

            @Override
            public String fingerprint() {
                return "linear";
            }
        };
    }

    @Test
    void givenLossLayerScorerBuiltWithInputType_whenDistilledWithListwiseKl_thenItLearnsTheTeachersScores() {
        // Given a shared 1x1-conv scorer over 4 candidates ending in a LossLayer (no nOut of its own)
        MultiLayerNetwork net = scorer(true);
        Student student = Student.of(net);
        assertEquals(CANDIDATES, student.numClasses(), "the LossLayer's width is its input width");
        assertEquals(FEATURES + 1, net.numParams(), "one weight per feature and a bias, shared by the candidates");
        INDArray x = Nd4j.rand(DataType.DOUBLE, 256, FEATURES, 1, CANDIDATES).subi(0.5).muli(2);
        INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, 256, CANDIDATES);
        oneHot.getColumn(0).assign(1.0);

        // When distilled from the linear teacher's candidate scores with the listwise KL alone
        DistillationResult r = Distiller.builder().teacher(linearTeacher()).objective("ListwiseKl").epochs(30).seed(3)
                .build().distill(student, new InMemoryDataSetIterator(x, oneHot, 32, 9L));

        // Then the plain student (softmax LossLayer) predicts the teacher's distribution over candidates;
        // softmax is shift-invariant, so the scores match up to the bias: compare probabilities
        MultiLayerNetwork plain = (MultiLayerNetwork) r.student();
        INDArray probe = Nd4j.rand(DataType.DOUBLE, 16, FEATURES, 1, CANDIDATES).subi(0.5).muli(2);
        INDArray predicted = plain.output(probe, false);
        INDArray expected = Nd4j.nn().softmax(linearTeacher().logits(new TeacherBatch(probe, null, 0)), 1);
        double maxError = Math.abs(predicted.sub(expected).maxNumber().doubleValue());
        maxError = Math.max(maxError, Math.abs(predicted.sub(expected).minNumber().doubleValue()));
        assertTrue(maxError < 0.02, "student probabilities differ from the teacher's by up to " + maxError);
        assertEquals(net.getLayerWiseConfigurations().toJson(), plain.getLayerWiseConfigurations().toJson(),
                "the shipped student keeps the user's LossLayer (softmax, MCXENT)");
    }

    @Test
    void givenLossLayerWithoutInputType_whenMadeAStudent_thenTheErrorSaysHowToGiveItsWidth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Student.of(scorer(false)));
        assertEquals("the student's output layer must declare nOut >= 1, got 0; a LossLayer has no nOut of its own: "
                + "build the configuration with setInputType(...) so that DL4J sets its input width", e.getMessage());
    }
}
