package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.DistillationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Deep-supervision self-distillation ("Be Your Own Teacher"): auxiliary classifiers on shallow layers
 * learn from the labels and from the student's own deepest classifier, computed by a {@link SelfTeacher}
 * in the data pipeline; the shipped student has no heads.
 */
class SelfDistillationTest {
    private static final String AUX = "0.7*CrossEntropy + 0.3*SoftTargetKl(temperature=3.0)";
    static List<DataSet> train;
    static List<DataSet> test;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(256, 1);
        test = Fixtures.blobs(128, 2);
    }

    /** 12 -> 16 -> 16 -> 4: layers "0" and "1" are hidden, "2" is the deepest classifier. */
    static MultiLayerNetwork deepStudent(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(Fixtures.FEATURES).nOut(16).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(Fixtures.CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    private static FeatureDistiller.Builder byot() {
        return FeatureDistiller.builder().selfTeacher().objective("CrossEntropy")
                .auxiliaryClassifier(AuxiliaryClassifier.of("0", AUX))
                .tap(Tap.of("0", "1", 0.03, "FitNetsHint").named("hint")).seed(3);
    }

    @Test
    void givenByot_whenDistilled_thenAuxiliaryHeadLearnsAndShippedStudentHasNoHeads() {
        MultiLayerNetwork studentNet = deepStudent(5);
        DistillationResult r = byot().epochs(4).build().distill(Student.of(studentNet), Fixtures.iterator(train, 32));
        Map<String, Double> first = r.report().epochs().get(0).meanTerms();
        Map<String, Double> last = r.report().finalTerms();
        for (String name : List.of("CrossEntropy", "aux@0", "aux@0.CrossEntropy", "aux@0.SoftTargetKl", "hint", "total")) {
            assertTrue(last.containsKey(name) && Double.isFinite(last.get(name)), name + " in " + last);
        }
        assertTrue(last.get("aux@0") < first.get("aux@0"), "auxiliary head's loss falls: " + first.get("aux@0") + " -> "
                + last.get("aux@0"));
        assertTrue(last.get("aux@0.CrossEntropy") < first.get("aux@0.CrossEntropy"));
        // the shipped student is the user's network: same configuration, same parameter count, no head
        MultiLayerNetwork plain = (MultiLayerNetwork) r.student();
        assertEquals(studentNet.getLayerWiseConfigurations().toJson(), plain.getLayerWiseConfigurations().toJson());
        assertEquals(studentNet.numParams(), plain.numParams());
        double acc = Metrics.accuracy(plain, Fixtures.iterator(test, 64));
        assertTrue(acc > 0.8, "self-distilled student accuracy " + acc);
        assertTrue(r.report().teacher().startsWith("SelfTeacher(the student's own outputs"), r.report().teacher());
        assertTrue(r.report().objective().contains("[aux@0: 0.7*CrossEntropy + 0.3*SoftTargetKl(temperature=3.0) on 0]"),
                r.report().objective());
    }

    @Test
    void givenByotTraining_whenFitByDl4j_thenSelfTeacherRunsOnlyBetweenStepsAndFollowsTheStudent() {
        MultiLayerNetwork studentNet = deepStudent(6);
        FeatureTraining training = byot().build().prepare(Student.of(studentNet), Fixtures.iterator(train, 32));
        SelfTeacher self = (SelfTeacher) training.teacher();
        // the heads: the classifier on "0" (an OutputLayer to 4 classes) and the hint on "0"
        assertEquals(List.of("2", "kd_hint_head", "kd_aux_0_head"), training.graph().getConfiguration().getNetworkOutputs());
        List<long[]> duringSteps = new ArrayList<>();
        training.graph().addListeners(new BaseTrainingListener() {
            private long atForward;

            @Override
            public void onForwardPass(Model model, Map<String, INDArray> activations) {
                atForward = self.runs();
            }

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                duringSteps.add(new long[] {atForward, self.runs()});
            }
        });
        long before = self.runs();
        TeacherTargetIterator logits = new TeacherTargetIterator(Fixtures.iterator(train, 32), self,
                TeacherTargetIterator.layoutFor(self, Fixtures.CLASSES));
        for (int e = 0; e < 2; e++) {
            FeatureTargetIterator data = training.iterator(logits);
            data.reset();
            training.graph().fit(data);
        }
        // 8 batches x 2 epochs, each: logits (main targets) + activations (hint), all before its step's forward pass
        assertEquals(16, duringSteps.size());
        assertEquals(before + 2 * 16, self.runs());
        for (long[] step : duringSteps) {
            assertEquals(step[0], step[1], "the self-teacher ran between the forward pass and the end of a step");
        }
        // it follows the live student: its logits are the training graph's main output now
        INDArray x = Fixtures.iterator(test, 16).next().getFeatures();
        assertTrue(training.mainLogits(x).equalsWithEps(self.logits(new TeacherBatch(x, null, 0)), 1e-6));
        // and the exported student predicts like the training graph's main output
        MultiLayerNetwork plain = (MultiLayerNetwork) training.exportPlain();
        assertTrue(new ActivationSoftmax().getActivation(training.mainLogits(x), false).equalsWithEps(plain.output(x),
                1e-6));
        assertTrue(plain.numParams() < training.graph().numParams(), "adapter and heads are not exported");
    }

    @Test
    void givenOpenWorkspace_whenSelfTeacherAskedForLogits_thenRefusesToRunInsideFit() {
        SelfTeacher self = SelfTeacher.of(Student.of(deepStudent(7)));
        INDArray x = Fixtures.iterator(test, 4).next().getFeatures();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace("kd4j-test-ws")) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> self.logits(new TeacherBatch(x, null, 0)));
            assertTrue(e.getMessage().startsWith("the self-teacher must run in the data pipeline, before fit sees a "
                    + "batch"), e.getMessage());
        }
        assertEquals(0, self.runs());
        assertArrayEquals(new long[] {4, Fixtures.CLASSES}, self.logits(new TeacherBatch(x, null, 0)).shape());
    }

    @Test
    void givenBadSelfDistillationSettings_whenBuilt_thenClearErrors() {
        MultiLayerNetwork studentNet = deepStudent(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> byot()
                .teacher(Teacher.of(Fixtures.trainedTeacher(train))).build());
        assertEquals("set either a teacher or selfTeacher(), not both", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FeatureDistiller.builder().selfTeacher()
                .objective("CrossEntropy").auxiliaryClassifier(AuxiliaryClassifier.of("2", AUX)).build()
                .prepare(Student.of(studentNet), Fixtures.iterator(train, 32)));
        assertTrue(e.getMessage().startsWith("auxiliary classifier aux@2: the student has no intermediate vertex '2'"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AuxiliaryClassifier.of("0", "Nope"));
        assertTrue(e.getMessage().startsWith("unknown loss 'Nope'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> byot().auxiliaryClassifier(AuxiliaryClassifier.of("1", AUX)
                .named("hint")).build().prepare(Student.of(studentNet), Fixtures.iterator(train, 32)));
        assertEquals("tap and auxiliary classifier names must be unique, got 'hint' twice", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FeatureDistiller.builder().selfTeacher()
                .objective("CrossEntropy").build());
        assertTrue(e.getMessage().startsWith("feature distillation needs at least one tap or auxiliary classifier"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FeatureDistiller.builder().selfTeacher()
                .objective("CrossEntropy").tap(Tap.of("0", "7", 1.0, "FitNetsHint")).build()
                .prepare(Student.of(studentNet), Fixtures.iterator(train, 32)));
        assertTrue(e.getMessage().startsWith("the student (as its own teacher) has no vertex '7'"), e.getMessage());
    }
}
