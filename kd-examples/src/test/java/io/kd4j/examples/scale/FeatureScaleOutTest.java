package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.feature.FeatureDistiller;
import io.kd4j.core.feature.FeatureLossFunction;
import io.kd4j.core.feature.FeatureTraining;
import io.kd4j.core.feature.FlattenPreProcessor;
import io.kd4j.core.feature.Tap;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper.TrainingMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Feature distillation (taps, adapters, MultiDataSets) through ParallelWrapper and Spark. The exactness
 * tests use FitNets: its hint is a mean of per-example squared errors, so the mean of two workers' SGD
 * steps on half batches is the step on the whole batch. Batch-relational losses (SP, RKD, PKT, CC, CRD)
 * compare the examples of one batch with each other and have no such identity.
 */
class FeatureScaleOutTest {
    static final Objective OBJECTIVE = Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)");
    // student layer 0 (8 units) hints teacher layer 0 (32 units) through a dense 8 -> 32 adapter
    static final List<Tap> HINT = List.of(Tap.of("0", "0", 0.5, "FitNetsHint"));
    static JavaSparkContext sc;
    static List<DataSet> train;
    static List<DataSet> test;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("kd4j-feature-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
        train = Blobs.examples(512, 1);
        test = Blobs.examples(256, 2);
        teacherNet = Blobs.trainedTeacher(train);
    }

    @AfterAll
    static void tearDown() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static FeatureDistiller oneWorker(int epochs) {
        return FeatureDistiller.builder().teacher(Teacher.of(teacherNet)).objective(OBJECTIVE).tap(HINT.get(0))
                .epochs(epochs).seed(3).build();
    }

    @Test
    void givenTwoWorkersAveragingEveryStepWithSgd_whenFeatureDistilled_thenSameStudentAsOneWorkerOnDoubleBatches() {
        // theta - lr*(g1 + g2)/2 is the SGD step on the union of both batches when every term (CE, KD, FitNets'
        // mean squared hint) is a batch mean; the adapter starts from the same seed in both runs.
        Model parallel = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 2, 3).distillFeatures(
                Student.of(Blobs.sgdStudent(5)), Teacher.of(teacherNet), OBJECTIVE, HINT, Blobs.iterator(train, 32))
                .student();
        Model single = oneWorker(2).distill(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(train, 64)).student();
        assertArrayEquals(single.params().toFloatVector(), parallel.params().toFloatVector(), 1e-5f);
        assertInstanceOf(MultiLayerNetwork.class, parallel, "the exported student is the user's kind of network");
    }

    @Test
    void givenOneAveragingRoundWithSgd_whenFeatureDistilledOnSpark_thenSameStudentAsOneWorkerOnTheWholeBatch(
            @TempDir Path dir) {
        List<DataSet> sixtyFour = train.subList(0, 64);
        FeatureTraining training = oneWorker(1).prepare(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(sixtyFour, 32));
        TargetLayout layout = TargetLayout.dense(Blobs.CLASSES);
        JavaRDD<MultiDataSet> packed = sc.parallelize(PackedBatches.packFeatures(Blobs.iterator(sixtyFour, 32),
                Teacher.of(teacherNet), layout, training.targets()), 2);
        Model spark = new SparkDistiller(1).distillFeatures(sc, training, layout, packed,
                SparkTrainingMasters.averaging(2, 32, 1, 3, dir)).student();
        Model single = oneWorker(1).distill(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(sixtyFour, 64)).student();
        assertArrayEquals(single.params().toFloatVector(), spark.params().toFloatVector(), 1e-5f);
    }

    @Test
    void givenActivationsAttachedOnExecutors_whenFeatureDistilledOnSparkLocal2_thenStudentLearnsAndShipsWithoutHeads(
            @TempDir Path dir) {
        MultiLayerNetwork studentNet = Blobs.mlp(8, 5, new Adam(1e-2));
        FeatureTraining training = oneWorker(1).prepare(Student.of(studentNet), Blobs.iterator(train, 32));
        TargetLayout layout = TargetLayout.dense(Blobs.CLASSES);
        JavaRDD<MultiDataSet> packed = SparkTeacherOutputs.attachFeatures(sc, teacherNet,
                sc.parallelize(Blobs.batches(train, 32), 2), layout, training.targets());
        // the executors' batches are the driver's (same teacher, same order)
        List<MultiDataSet> onDriver = PackedBatches.packFeatures(Blobs.iterator(train, 32), Teacher.of(teacherNet),
                layout, training.targets());
        List<MultiDataSet> onExecutors = packed.collect();
        assertEquals(onDriver.size(), onExecutors.size());
        for (int i = 0; i < onDriver.size(); i++) {
            assertEquals(onDriver.get(i).getLabels(0), onExecutors.get(i).getLabels(0), "logit block of batch " + i);
            assertEquals(onDriver.get(i).getLabels(1), onExecutors.get(i).getLabels(1), "activations of batch " + i);
        }
        SparkDistiller.Result r = new SparkDistiller(4).distillFeatures(sc, training, layout, packed,
                SparkTrainingMasters.averaging(2, 32, 1, 3, dir));
        double accuracy = Metrics.accuracy(r.student(), Blobs.iterator(test, 64));
        assertTrue(accuracy > 0.8, "student accuracy " + accuracy);
        assertEquals(4, r.epochSeconds().size());
        MultiLayerNetwork plain = (MultiLayerNetwork) r.student();
        assertEquals(studentNet.getLayerWiseConfigurations().toJson(), plain.getLayerWiseConfigurations().toJson());
        assertEquals(studentNet.numParams(), plain.numParams(), "no adapter or head parameters were exported");
        assertTrue(training.graph().getConfiguration().getVertices().containsKey("kd_FitNetsHint_0_adapter"));
    }

    @Test
    void givenFeatureTrainingGraph_whenSerialisedLikeSparkAndParallelWrapperDo_thenAdapterAndHeadSurvive()
            throws Exception {
        FeatureTraining training = oneWorker(1).prepare(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(train, 32));
        ComputationGraphConfiguration conf = training.graph().getConfiguration();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(conf); // Spark ships the configuration to executors by Java serialisation
        }
        ComputationGraphConfiguration javaCopy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            javaCopy = (ComputationGraphConfiguration) in.readObject();
        }
        // ParallelWrapper builds each replica from the configuration's JSON
        ComputationGraphConfiguration jsonCopy = ComputationGraphConfiguration.fromJson(conf.toJson());
        for (ComputationGraphConfiguration back : List.of(javaCopy, jsonCopy)) {
            assertEquals(conf, back);
            DenseLayer adapter = (DenseLayer) ((LayerVertex) back.getVertices().get("kd_FitNetsHint_0_adapter"))
                    .getLayerConf().getLayer();
            assertEquals(8, adapter.getNIn());
            assertEquals(32, adapter.getNOut());
            assertInstanceOf(ActivationIdentity.class, adapter.getActivationFn());
            assertEquals(new Sgd(0.1), adapter.getIUpdater(), "the adapter trains with the student's updater");
            LayerVertex head = (LayerVertex) back.getVertices().get("kd_FitNetsHint_0_head");
            assertEquals(new FlattenPreProcessor(new long[] {32}), head.getPreProcessor());
            FeatureLossFunction loss = (FeatureLossFunction) ((LossLayer) head.getLayerConf().getLayer()).getLossFn();
            assertEquals("FitNetsHint@0", loss.term());
            assertEquals(0.5, loss.weight());
            assertEquals("FitNetsHint()", loss.featureLoss().describe());
        }
    }

    @Test
    void givenLogitOnlyBatches_whenFeatureDistilledOnSpark_thenErrorSaysHowToPack(@TempDir Path dir) {
        FeatureTraining training = oneWorker(1).prepare(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(train, 32));
        TargetLayout layout = TargetLayout.dense(Blobs.CLASSES);
        List<MultiDataSet> logitsOnly = PackedBatches.pack(Blobs.iterator(train.subList(0, 64), 32),
                Teacher.of(teacherNet), layout).stream().map(d -> (MultiDataSet) new org.nd4j.linalg.dataset.MultiDataSet(
                        d.getFeatures(), d.getLabels())).toList();
        Exception e = assertThrows(Exception.class, () -> new SparkDistiller(1).distillFeatures(sc, training, layout,
                sc.parallelize(logitsOnly, 2), SparkTrainingMasters.averaging(2, 32, 1, 3, dir)));
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalArgumentException)) {
            root = root.getCause();
        }
        assertEquals("feature batches must have 1 + 1 label arrays, the first with 9 columns, got 1 arrays, the first "
                + "with 9 columns: pack them with PackedBatches.packFeatures or SparkTeacherOutputs.attachFeatures",
                root.getMessage());
    }
}
