package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.feature.FeatureDistiller;
import io.kd4j.core.feature.FeatureTraining;
import io.kd4j.core.feature.Tap;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.TargetLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.CollectionAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

/** Distillation through DL4J's gradient-sharing Spark trainer ({@code SharedTrainingMaster}, Aeron over UDP). */
class SparkGradientSharingTest {
    static final Objective OBJECTIVE = Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)");
    static final int PORT = 40123;

    private static SparkConf conf(String master) {
        return new SparkConf().setMaster(master).setAppName("kd4j-sharing").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
    }

    @Test
    void givenSharedTrainingMasterOnLocal2_whenLogitAndFeatureStudentsDistilled_thenBothLearnTheBlobs() {
        List<DataSet> train = Blobs.examples(512, 1);
        MultiLayerNetwork teacherNet = Blobs.trainedTeacher(train);
        JavaSparkContext sc = new JavaSparkContext(conf("local[2]"));
        try {
            JavaRDD<DataSet> packed = sc.parallelize(PackedBatches.pack(Blobs.iterator(train, 32),
                    Teacher.of(teacherNet), TargetLayout.dense(Blobs.CLASSES)), 2);
            // threshold 1e-2 ~ one Adam(1e-2) step: each message moves a parameter by at most the threshold
            SparkDistiller.Result r = new SparkDistiller(2).distill(sc, Student.of(Blobs.mlp(8, 5, new Adam(1e-2))),
                    OBJECTIVE, packed, SparkTrainingMasters.sharing(2, 32, 1e-2, 3, "127.0.0.1", "127.0.0.0/8", PORT));
            double accuracy = Metrics.accuracy(r.student(), Blobs.iterator(Blobs.examples(256, 2), 64));
            assertTrue(accuracy > 0.8, "student accuracy " + accuracy);
            assertEquals(2, r.epochSeconds().size());
            String json = ((MultiLayerNetwork) r.student()).getLayerWiseConfigurations().toJson();
            assertTrue(!json.contains("io.kd4j"), "exported configuration references kd4j");

            // feature distillation (a FitNets hint with its adapter) through the same trainer
            FeatureTraining training = FeatureDistiller.builder().teacher(Teacher.of(teacherNet)).objective(OBJECTIVE)
                    .tap(Tap.of("0", "0", 0.5, "FitNetsHint")).seed(3).build()
                    .prepare(Student.of(Blobs.mlp(8, 5, new Adam(1e-2))), Blobs.iterator(train, 32));
            JavaRDD<MultiDataSet> features = sc.parallelize(PackedBatches.packFeatures(Blobs.iterator(train, 32),
                    Teacher.of(teacherNet), TargetLayout.dense(Blobs.CLASSES), training.targets()), 2);
            Model featureStudent = new SparkDistiller(2).distillFeatures(sc, training, TargetLayout.dense(Blobs.CLASSES),
                    features, SparkTrainingMasters.sharing(2, 32, 1e-2, 3, "127.0.0.1", "127.0.0.0/8", PORT)).student();
            double featureAccuracy = Metrics.accuracy(featureStudent, Blobs.iterator(Blobs.examples(256, 2), 64));
            assertTrue(featureAccuracy > 0.8, "feature-distilled student accuracy " + featureAccuracy);
            assertEquals(Blobs.mlp(8, 5, new Adam(1e-2)).numParams(), featureStudent.numParams(),
                    "no adapter or head exported");
        } finally {
            sc.stop();
        }
    }

    /**
     * Two executor JVMs (about 45 s on 2 cores: JVM, Spark and ND4J start-up in each executor), so it runs on
     * request only: {@code -Dkd4j.localCluster=true}.
     */
    @Test
    @EnabledIfSystemProperty(named = "kd4j.localCluster", matches = "true")
    void givenTwoExecutorJvmsEachHoldingTwoOfFourClasses_whenDistilledWithSharing_thenStudentLearnsAllFour(
            @TempDir Path dir) throws Exception {
        // Executor A trains only on classes 0 and 1, executor B only on 2 and 3, in separate JVMs, in one fit.
        // A worker that learns from one half alone stays near 0.5 on all four classes (checked below), so an
        // accuracy above 0.8 needs the updates of both executors: they reached each other over Aeron.
        List<DataSet> train = Blobs.examples(1024, 1);
        List<DataSet> test = Blobs.examples(256, 2);
        MultiLayerNetwork teacherNet = Blobs.trainedTeacher(train);
        List<DataSet> low = new ArrayList<>();
        List<DataSet> high = new ArrayList<>();
        for (DataSet d : train) {
            (d.getLabels().argMax(1).getInt(0) < 2 ? low : high).add(d);
        }
        int n = Math.min(low.size(), high.size()) / 32 * 32;
        for (List<DataSet> half : List.of(low.subList(0, n), high.subList(0, n))) {
            Model alone = Distiller.builder().teacher(Teacher.of(teacherNet)).objective(OBJECTIVE).seed(3).build()
                    .distill(Student.of(Blobs.mlp(8, 5, new Adam(1e-2))), Blobs.iterator(half, 32)).student();
            double accuracy = Metrics.accuracy(alone, Blobs.iterator(test, 64));
            assertTrue(accuracy < 0.65, "a student of one half alone reaches " + accuracy);
        }
        TargetLayout layout = TargetLayout.dense(Blobs.CLASSES);
        List<DataSet> packed = new ArrayList<>(PackedBatches.pack(Blobs.iterator(low.subList(0, n), 32),
                Teacher.of(teacherNet), layout));
        packed.addAll(PackedBatches.pack(Blobs.iterator(high.subList(0, n), 32), Teacher.of(teacherNet), layout));

        JavaSparkContext sc = localCluster(dir);
        try {
            CollectionAccumulator<String> seen = sc.sc().collectionAccumulator("executor:classes");
            JavaRDD<DataSet> shares = sc.parallelize(packed, 2).map(new RecordExecutor(seen));
            Model student = new SparkDistiller(1).distill(sc, Student.of(Blobs.mlp(8, 5, new Adam(1e-2))), OBJECTIVE,
                    shares, SparkTrainingMasters.sharing(2, 32, 1e-2, 3, "127.0.0.1", "127.0.0.0/8", PORT)).student();
            Map<String, Long> perExecutor = new TreeMap<>(seen.value().stream()
                    .collect(Collectors.groupingBy(s -> s, Collectors.counting())));
            // two executors, each trained on one half only (n / 32 batches each)
            assertEquals(2, perExecutor.size(), perExecutor.toString());
            assertEquals(2, perExecutor.keySet().stream().map(k -> k.split(":")[0]).distinct().count(),
                    perExecutor.toString());
            assertEquals(2, perExecutor.keySet().stream().map(k -> k.split(":")[1]).distinct().count(),
                    perExecutor.toString());
            perExecutor.values().forEach(batches -> assertEquals(n / 32, batches));
            double accuracy = Metrics.accuracy(student, Blobs.iterator(test, 64));
            assertTrue(accuracy > 0.8, "student accuracy " + accuracy + " with " + perExecutor);
        } finally {
            sc.stop();
        }
    }

    /**
     * Spark's {@code local-cluster[2,1,1024]}: two executor JVMs on this machine. Its worker launches
     * executors from a Spark home; a directory with an empty {@code jars/} (the class path is given
     * explicitly) and {@code launcher/target/scala-2.12/} (the Scala version) stands in for one.
     */
    private static JavaSparkContext localCluster(Path dir) throws Exception {
        Path home = dir.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("launcher/target/scala-2.12"));
        String opens = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).collect(Collectors.joining(" "));
        System.setProperty("spark.testing", "true");
        System.setProperty("spark.test.home", home.toString());
        try {
            JavaSparkContext sc = new JavaSparkContext(conf("local-cluster[2,1,1024]")
                    .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                    .set("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
                    .set("spark.executor.extraJavaOptions", opens + " -D" + SparkTrainingMasters.AERON_UNBLOCK_TIMEOUT
                            + "=" + SparkTrainingMasters.AERON_UNBLOCK_TIMEOUT_NS
                            + " -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (sc.sc().getExecutorMemoryStatus().size() < 3) { // the driver and two executors
                if (System.nanoTime() > deadline) {
                    sc.stop();
                    throw new IllegalStateException("the two executors of local-cluster did not start within 120 s");
                }
                Thread.sleep(100);
            }
            return sc;
        } finally {
            System.clearProperty("spark.testing");
            System.clearProperty("spark.test.home");
        }
    }

    /** Records, on the executor, which executor trained a batch of which class pair. */
    private static final class RecordExecutor implements Function<DataSet, DataSet> {
        private static final long serialVersionUID = 1L;
        private final CollectionAccumulator<String> seen;

        RecordExecutor(CollectionAccumulator<String> seen) {
            this.seen = seen;
        }

        @Override
        public DataSet call(DataSet d) {
            int label = d.getLabels().get(NDArrayIndex.point(0), NDArrayIndex.interval(0, Blobs.CLASSES)).argMax()
                    .getInt(0);
            seen.add(SparkEnv.get().executorId() + ":" + (label < 2 ? "classes 0-1" : "classes 2-3"));
            return d;
        }
    }
}
