package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.strategy.MultiTeacher;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class FeatureDistillerTest {
    static List<DataSet> train;
    static List<DataSet> test;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(256, 1);
        test = Fixtures.blobs(128, 2);
        teacherNet = Fixtures.trainedTeacher(train);
    }

    private static FeatureDistiller.Builder base() {
        return FeatureDistiller.builder().teacher(Teacher.of(teacherNet))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").seed(3).data("blobs");
    }

    @Test
    void givenMlnStudentWithHintTap_whenTrained_thenExportedStudentPredictsLikeTrainingMainOutput() {
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        INDArray before = studentNet.params().dup();
        FeatureDistiller d = base().tap(Tap.of("0", "0", 1.0, "FitNetsHint")).build();
        InMemoryDataSetIterator it = Fixtures.iterator(train, 32);
        FeatureTraining training = d.prepare(Student.of(studentNet), it);
        // the hint head has a dense adapter 8 -> 32 (teacher width), the student's layers are vertices "0", "1"
        ComputationGraphConfiguration conf = training.graph().getConfiguration();
        assertTrue(conf.getVertices().containsKey("kd_FitNetsHint_0_adapter"), conf.getVertices().keySet().toString());
        assertEquals(List.of("1", "kd_FitNetsHint_0_head"), conf.getNetworkOutputs());
        // before training, the training copy's main output is the student's (softmax of its logits)
        INDArray x = Fixtures.iterator(test, 128).next().getFeatures();
        assertEquals(studentNet.output(x), new ActivationSoftmax().getActivation(training.mainLogits(x), false));
        TeacherTargetIterator logits = new TeacherTargetIterator(it, Teacher.of(teacherNet), TargetLayout.dense(4));
        for (int e = 0; e < 2; e++) {
            FeatureTargetIterator data = training.iterator(logits);
            data.reset();
            training.graph().fit(data);
        }
        MultiLayerNetwork plain = (MultiLayerNetwork) training.exportPlain();
        assertEquals(studentNet.getLayerWiseConfigurations().toJson(), plain.getLayerWiseConfigurations().toJson());
        INDArray expected = new ActivationSoftmax().getActivation(training.mainLogits(x), false);
        assertTrue(expected.equalsWithEps(plain.output(x), 1e-6), "exported student predicts like the training copy");
        assertTrue(plain.params().length() < training.graph().params().length(), "adapter and head are not exported");
        assertEquals(before, studentNet.params(), "the user's student network was not modified");
    }

    @Test
    void givenOnlyAFeatureTerm_whenTrained_thenOnlyTheTappedLayersAndAdapterMove() {
        // logit objective weighted 0: every update comes from the hint head through layer 0
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        FeatureDistiller d = FeatureDistiller.builder().teacher(Teacher.of(teacherNet)).objective("0.0*SoftTargetKl")
                .tap(Tap.of("0", "0", 1.0, "FitNetsHint")).epochs(3).seed(3).build();
        InMemoryDataSetIterator it = Fixtures.iterator(train, 32);
        FeatureTraining training = d.prepare(Student.of(studentNet), it);
        Map<String, INDArray> start = copy(training.graph().paramTable());
        TeacherTargetIterator logits = new TeacherTargetIterator(it, Teacher.of(teacherNet), TargetLayout.dense(4));
        double first = Double.NaN;
        for (int e = 0; e < 3; e++) {
            FeatureTargetIterator data = training.iterator(logits);
            data.reset();
            training.graph().fit(data);
            if (e == 0) {
                first = training.heads().get(0).lastValue();
            }
        }
        Map<String, INDArray> end = training.graph().paramTable();
        assertEquals(start.get("1_W"), end.get("1_W"), "the output layer gets no gradient from the hint");
        assertTrue(!start.get("0_W").equals(end.get("0_W")), "the tapped layer 0 is trained by the hint");
        assertTrue(!start.get("kd_FitNetsHint_0_adapter_W").equals(end.get("kd_FitNetsHint_0_adapter_W")));
        double last = training.heads().get(0).lastValue();
        assertTrue(last < first, "hint loss decreases: " + first + " -> " + last);
    }

    @Test
    void givenSeveralTaps_whenDistilled_thenEachIsANamedTermAndTheStudentLearns() {
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        DistillationResult r = base()
                .tap(Tap.of("0", "0", 1.0, "FitNetsHint"))
                .tap(Tap.of("0", "0", 10.0, "RkdDistance").named("rkd"))
                .tap(Tap.of("0", "0", 5.0, "Crd(temperature=0.5, memorySize=64)"))
                .epochs(3).build()
                .distill(Student.of(studentNet), Fixtures.iterator(train, 32));
        Map<String, Double> terms = r.report().finalTerms();
        for (String name : List.of("CrossEntropy", "SoftTargetKl", "FitNetsHint@0", "rkd", "Crd@0", "total")) {
            assertTrue(terms.containsKey(name) && Double.isFinite(terms.get(name)), name + " in " + terms);
        }
        assertTrue(r.report().objective().contains("10.0*RkdDistance()[rkd: 0 -> 0]"), r.report().objective());
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(test, 64));
        assertTrue(acc > 0.8, "distilled student accuracy " + acc);
        assertTrue(r.student() instanceof MultiLayerNetwork);
    }

    @Test
    void givenBadTaps_whenPrepared_thenClearErrors() {
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        InMemoryDataSetIterator it = Fixtures.iterator(train, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> base().tap(Tap.of("7", "0", 1.0, "FitNetsHint")).build().prepare(Student.of(studentNet), it));
        assertTrue(e.getMessage().startsWith("tap FitNetsHint@7: the student has no intermediate vertex '7'"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tap.of("0", "0", 1.0, "SoftTargetKl"));
        assertTrue(e.getMessage().startsWith("'SoftTargetKl' is not a feature loss"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tap.of("0", "0", -1.0, "FitNetsHint"));
        assertEquals("weight of tap FitNetsHint@0 must be finite and >= 0, got -1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> base().tap(Tap.of("0", "0", 1, "Pkt"))
                .tap(Tap.of("0", "0", 1, "Pkt")).build().prepare(Student.of(studentNet), it));
        assertEquals("tap names must be unique, got 'Pkt@0' twice", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> base().build());
        assertTrue(e.getMessage().startsWith("feature distillation needs at least one tap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> base().tap(Tap.of("0", "0", 1, "Vid")
                .withAdapter(Adapter.NONE)).build().prepare(Student.of(studentNet), it));
        assertTrue(e.getMessage().contains("Vid needs an adapter"), e.getMessage());
    }

    @Test
    void givenTrainingGraph_whenJsonRoundTripped_thenHeadsAndPreprocessorsSurvive() {
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        FeatureTraining training = base().tap(Tap.of("0", "0", 3.0, "SimilarityPreserving").named("sp")).tap(Tap.of("0", "0", 2.0, "FitNetsHint")).build()
                .prepare(Student.of(studentNet), Fixtures.iterator(train, 32));
        String json = training.graph().getConfiguration().toJson();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(training.graph().getConfiguration(), back);
        ComputationGraph reloaded = new ComputationGraph(back);
        reloaded.init(training.graph().params().dup(), false);
        INDArray x = Fixtures.iterator(test, 16).next().getFeatures();
        assertEquals(training.graph().output(false, x)[0], reloaded.output(false, x)[0]);
        FeatureLossFunction head = (FeatureLossFunction) ((org.deeplearning4j.nn.conf.layers.LossLayer)
                ((org.deeplearning4j.nn.conf.graph.LayerVertex) back.getVertices().get("kd_sp_head")).getLayerConf()
                        .getLayer()).getLossFn();
        assertEquals("sp", head.term());
        assertEquals(3.0, head.weight());
        assertEquals("SimilarityPreserving()", head.featureLoss().describe());
    }

    @Test
    void givenEnsembleAveragingPerTeacherLosses_whenFeatureDistilled_thenHintIsAveragedOverMembersAndStudentLearns() {
        // two teachers with 32-unit hidden layers: the hint head sees [batch, 2 * 32] labels and one 8 -> 32 adapter
        MultiTeacher ensemble = MultiTeacher.builder().add(Teacher.of(teacherNet), 1)
                .add(Teacher.of(Fixtures.trainedTeacher(Fixtures.blobs(256, 5))), 1)
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build();
        FeatureDistiller d = FeatureDistiller.builder().teacher(ensemble)
                .objective("0.5*CrossEntropy + 0.5*Dkd(warmupEpochs=1.0)").tap(Tap.of("0", "0", 1.0, "FitNetsHint"))
                .epochs(3).seed(3).build();
        FeatureTraining training = d.prepare(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        FeatureLossFunction head = training.heads().get(0);
        assertEquals(head, new FeatureLossFunction("FitNetsHint@0", "FitNetsHint", 1.0, new long[] {32},
                new long[] {32}, false, new double[] {0.5, 0.5}));
        DistillationResult r = d.distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        double first = r.report().epochs().get(0).meanTerms().get("FitNetsHint@0");
        double last = r.report().epochs().get(2).meanTerms().get("FitNetsHint@0");
        assertTrue(last < first, "averaged hint falls: " + first + " -> " + last);
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(test, 64));
        assertTrue(acc > 0.8, "student of the ensemble, accuracy " + acc);
    }

    @Test
    void givenSameSeed_whenPreparedTwiceOnOtherBatchSizes_thenSameAdapterWeights() {
        // DL4J's transfer-learning builder seeds new layers from the clock unless told otherwise
        FeatureDistiller seeded = base().tap(Tap.of("0", "0", 1.0, "FitNetsHint")).build();
        INDArray first = seeded.prepare(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)).graph()
                .getParam("kd_FitNetsHint_0_adapter_W");
        INDArray again = seeded.prepare(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 64)).graph()
                .getParam("kd_FitNetsHint_0_adapter_W");
        INDArray otherSeed = base().seed(4).tap(Tap.of("0", "0", 1.0, "FitNetsHint")).build()
                .prepare(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)).graph()
                .getParam("kd_FitNetsHint_0_adapter_W");
        assertEquals(first, again);
        assertTrue(!first.equals(otherSeed), "another seed gives other adapter weights");
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> m) {
        Map<String, INDArray> c = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> c.put(k, v.dup()));
        return c;
    }
}
