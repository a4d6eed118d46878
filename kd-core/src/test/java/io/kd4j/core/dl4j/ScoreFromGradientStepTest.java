package io.kd4j.core.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * DL4J asks the output layer's loss for the gradient and then the score on every step: with the fused
 * kernels the score is read from the gradient call, so the kernels run once per step, in a
 * MultiLayerNetwork and in a ComputationGraph alike.
 */
class ScoreFromGradientStepTest {
    private static final int EXAMPLES = 256;
    private static final int BATCH = 32;

    private static DistillationLossFunction loss() {
        return DistillationLossFunction.of(Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)"),
                TargetLayout.dense(Fixtures.CLASSES));
    }

    private static OutputLayer output(DistillationLossFunction fn) {
        return new OutputLayer.Builder(fn).nIn(8).nOut(Fixtures.CLASSES).activation(Activation.IDENTITY).build();
    }

    private static DenseLayer hidden() {
        return new DenseLayer.Builder().nIn(Fixtures.FEATURES).nOut(8).activation(Activation.TANH).build();
    }

    private static TeacherTargetIterator data() {
        List<DataSet> data = Fixtures.blobs(EXAMPLES, 4);
        return new TeacherTargetIterator(Fixtures.iterator(data, BATCH), Teacher.of(Fixtures.trainedTeacher(data)),
                TargetLayout.dense(Fixtures.CLASSES));
    }

    @Test
    void givenMultiLayerNetwork_whenOneEpochFitted_thenKernelsRunOncePerStep() {
        // Given
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .updater(new Adam(1e-2)).list().layer(hidden()).layer(output(loss())).build());
        net.init();
        DistillationLossFunction fn = (DistillationLossFunction) ((OutputLayer) net.getLayerWiseConfigurations()
                .getConf(1).getLayer()).getLossFn();
        TeacherTargetIterator it = data();
        // When
        net.fit(it);
        // Then: one evaluation per step (two before the score was read from the gradient call)
        assertEquals(EXAMPLES / BATCH, fn.fusedEvaluations());
        assertTrue(fn.lastEvaluationFused());
        assertTrue(Double.isFinite(net.score()) && net.score() > 0, "score " + net.score());
    }

    @Test
    void givenComputationGraph_whenOneEpochFitted_thenKernelsRunOncePerStep() {
        // Given
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-2))
                .graphBuilder().addInputs("in").addLayer("hidden", hidden(), "in")
                .addLayer("out", output(loss()), "hidden").setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        DistillationLossFunction fn = (DistillationLossFunction) ((OutputLayer) net.getLayer("out").conf().getLayer())
                .getLossFn();
        TeacherTargetIterator it = data();
        // When
        net.fit(it);
        // Then
        assertEquals(EXAMPLES / BATCH, fn.fusedEvaluations());
        assertTrue(Double.isFinite(net.score()) && net.score() > 0, "score " + net.score());
    }
}
