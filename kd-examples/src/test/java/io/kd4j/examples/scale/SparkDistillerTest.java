package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

class SparkDistillerTest {
    static final Objective OBJECTIVE = Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)");
    static JavaSparkContext sc;
    static List<DataSet> train;
    static List<DataSet> test;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("kd4j-test")
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

    private static ParameterAveragingTrainingMaster master(int batch, Path exportDir) {
        return new ParameterAveragingTrainingMaster.Builder(2, batch).batchSizePerWorker(batch).averagingFrequency(1)
                .workerPrefetchNumBatches(0).rngSeed(3).exportDirectory(exportDir.toUri().toString()).build();
    }

    @Test
    void givenOneAveragingRoundWithSgd_whenDistilledOnSpark_thenSameStudentAsOneWorkerOnTheWholeBatch(
            @TempDir Path dir) {
        // Two workers each take one SGD step on 32 examples from the same start; parameter averaging gives
        // theta - lr*(g1 + g2)/2, the step on all 64 examples: one worker, one batch of 64 (the loss is a mean).
        List<DataSet> sixtyFour = train.subList(0, 64);
        JavaRDD<DataSet> packed = sc.parallelize(PackedBatches.pack(Blobs.iterator(sixtyFour, 32),
                Teacher.of(teacherNet), TargetLayout.dense(Blobs.CLASSES)), 2);
        Model spark = new SparkDistiller(1).distill(sc, Student.of(Blobs.sgdStudent(5)), OBJECTIVE, packed,
                master(32, dir)).student();
        Model single = Distiller.builder().teacher(Teacher.of(teacherNet)).objective(OBJECTIVE).epochs(1).seed(3)
                .build().distill(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(sixtyFour, 64)).student();
        assertArrayEquals(single.params().toFloatVector(), spark.params().toFloatVector(), 1e-5f);
    }

    @Test
    void givenTeacherOutputsAttachedOnExecutors_whenDistilledOnSparkLocal2_thenStudentLearns(@TempDir Path dir) {
        // online teacher, run by the executors in a stage of its own (persisted) before the student's fit
        JavaRDD<DataSet> plain = sc.parallelize(Blobs.batches(train, 32), 2);
        JavaRDD<DataSet> packed = SparkTeacherOutputs.attach(sc, teacherNet, plain, TargetLayout.dense(Blobs.CLASSES));
        SparkDistiller.Result r = new SparkDistiller(4).distill(sc, Student.of(Blobs.mlp(8, 5, new Adam(1e-2))),
                OBJECTIVE, packed, master(32, dir));
        double accuracy = Metrics.accuracy(r.student(), Blobs.iterator(test, 64));
        assertTrue(accuracy > 0.8, "student accuracy " + accuracy);
        assertEquals(4, r.epochSeconds().size());
        String json = ((MultiLayerNetwork) r.student()).getLayerWiseConfigurations().toJson();
        assertTrue(!json.contains("io.kd4j"), "exported configuration references kd4j");
    }

    @Test
    void givenBatchesOnThreePartitions_whenCacheBuiltByExecutors_thenSameFileAsSequentialBuild(@TempDir Path dir)
            throws Exception {
        Path sequential = dir.resolve("sequential.kdc");
        Path spark = dir.resolve("spark.kdc");
        TeacherCache.write(Teacher.of(teacherNet), Blobs.iterator(train, 50), sequential);
        SparkTeacherOutputs.writeCache(sc, teacherNet, sc.parallelize(Blobs.batches(train, 50), 3), spark);
        assertArrayEquals(Files.readAllBytes(sequential), Files.readAllBytes(spark));
        // and the cached teacher trains a student on Spark like any other
        JavaRDD<DataSet> packed = sc.parallelize(PackedBatches.pack(Blobs.iterator(train, 32),
                TeacherCache.open(spark, Teacher.of(teacherNet)), TargetLayout.dense(Blobs.CLASSES)), 2);
        Model student = new SparkDistiller(3).distill(sc, Student.of(Blobs.mlp(8, 5, new Adam(1e-2))), OBJECTIVE,
                packed, master(32, dir)).student();
        double accuracy = Metrics.accuracy(student, Blobs.iterator(test, 64));
        assertTrue(accuracy > 0.8, "student accuracy " + accuracy);
    }

    @Test
    void givenTrainingCopy_whenItsConfigurationIsJavaSerialised_thenTheObjectiveTravelsWithIt() throws Exception {
        // what Spark ships to executors: the configuration (with the loss function) and the packed batches
        TrainingModel model = Student.of(Blobs.sgdStudent(5)).trainingModel(
                DistillationLossFunction.of(OBJECTIVE, TargetLayout.dense(Blobs.CLASSES)));
        MultiLayerConfiguration conf = ((MultiLayerNetwork) model.network()).getLayerWiseConfigurations();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(conf);
        }
        MultiLayerConfiguration back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (MultiLayerConfiguration) in.readObject();
        }
        BaseOutputLayer out = (BaseOutputLayer) back.getConf(1).getLayer();
        DistillationLossFunction loss = (DistillationLossFunction) out.getLossFn();
        assertEquals("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)", loss.objective().describe());
        assertEquals(TargetLayout.dense(Blobs.CLASSES), loss.layout());
    }

    @Test
    void givenUnpackedBatches_whenDistilledOnSpark_thenErrorSaysHowToPack(@TempDir Path dir) {
        JavaRDD<DataSet> plain = sc.parallelize(Blobs.batches(train.subList(0, 64), 32), 2);
        Exception e = assertThrows(Exception.class, () -> new SparkDistiller(1).distill(sc,
                Student.of(Blobs.sgdStudent(5)), OBJECTIVE, plain, master(32, dir)));
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalArgumentException)) {
            root = root.getCause();
        }
        assertEquals("packed labels must have 9 columns, got 4: pack them with PackedBatches or SparkTeacherOutputs",
                root.getMessage());
        IllegalArgumentException epochs = assertThrows(IllegalArgumentException.class, () -> new SparkDistiller(0));
        assertEquals("epochs must be >= 1, got 0", epochs.getMessage());
    }
}
