package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** ComputationGraph teachers and students go through the same path as MultiLayerNetworks. */
class GraphDistillationTest {

    static ComputationGraph graph(int hidden, long seed) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).updater(new Adam(1e-2))
                .graphBuilder()
                .addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(Fixtures.FEATURES).nOut(hidden)
                        .activation(Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden)
                        .nOut(Fixtures.CLASSES).activation(Activation.SOFTMAX).build(), "hidden")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    @Test
    void givenGraphTeacherAndGraphStudent_whenDistilled_thenStudentLearnsTeacherUnchangedAndSavedGraphLoads(
            @TempDir Path dir) throws Exception {
        List<DataSet> train = Fixtures.blobs(512, 1);
        ComputationGraph teacherNet = graph(32, 7);
        for (int e = 0; e < 5; e++) {
            teacherNet.fit(Fixtures.iterator(train, 32));
        }
        INDArray teacherBefore = teacherNet.params().dup();
        Teacher teacher = Teacher.of(teacherNet);
        // teacher logits: softmax of them equals the teacher graph's own probabilities
        INDArray x = train.get(0).getFeatures();
        INDArray logits = teacher.logits(new io.kd4j.core.teacher.TeacherBatch(x, null, 0));
        assertTrue(org.nd4j.linalg.factory.Nd4j.nn().softmax(logits, 1).equalsWithEps(teacherNet.outputSingle(x), 1e-5));

        DistillationResult r = Distiller.builder().teacher(teacher)
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(3).seed(1).build()
                .distill(Student.of(graph(8, 5)), Fixtures.iterator(train, 32));

        assertEquals(teacherBefore, teacherNet.params());
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(Fixtures.blobs(256, 2), 64));
        assertTrue(acc > 0.8, "accuracy " + acc);
        Path file = dir.resolve("g.zip");
        r.save(file);
        ComputationGraph loaded = ModelSerializer.restoreComputationGraph(file.toFile());
        assertEquals(((ComputationGraph) r.student()).outputSingle(x), loaded.outputSingle(x));
    }
}
