package io.kd4j.examples;

import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.data.FashionMnist;
import io.kd4j.examples.scale.PackedBatches;
import io.kd4j.examples.scale.ParallelWrapperDistiller;
import io.kd4j.examples.scale.SparkDistiller;
import io.kd4j.examples.scale.SparkTeacherOutputs;
import io.kd4j.examples.scale.SparkTrainingMasters;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Fashion-MNIST distillation on Spark: a CNN teacher (trained plainly on the driver), its outputs
 * cached by the Spark executors ({@link SparkTeacherOutputs#writeCache}) or attached by them
 * ({@code --teacher-outputs executors}), and the MLP student trained by DL4J's Spark trainer
 * ({@link SparkDistiller}): parameter averaging ({@code --training-master averaging}, the default) or
 * gradient sharing ({@code --training-master sharing}, {@link SparkTrainingMasters#sharing}). With {@code --compare} the same student is also distilled by
 * one worker ({@code Distiller}) and by ParallelWrapper with 2 workers, and a table reports the
 * student-training wall time and test accuracy of each.
 *
 * <p>Local mode by default ({@code --master local[*]}). On a cluster the same class runs unchanged:
 * build a jar with kd4j and its dependencies (Spark itself {@code provided}), then
 * <pre>
 * spark-submit --class io.kd4j.examples.SparkDistillation --master yarn \
 *   --conf spark.driver.extraJavaOptions="$OPENS" --conf spark.executor.extraJavaOptions="$OPENS" \
 *   --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE kd-examples-all.jar --master yarn --data /path/on/driver
 * </pre>
 * where {@code $OPENS} is the {@code --add-opens} list of kd-examples' pom ({@code spark.jdk17.opens});
 * with {@code --training-master sharing} add {@code -Daeron.publication.unblock.timeout=60000000000} to
 * the executors' options (see {@link SparkTrainingMasters#sharing}).
 * {@code --master} is only used when no master is set by spark-submit. Only the driver reads the
 * data; the teacher network is broadcast; the executors need no shared file system.
 *
 * <p>Flags: {@code --data DIR|embedded}, {@code --teacher-epochs} (2), {@code --student-epochs} (3),
 * {@code --hidden} (32), {@code --temperature} (4), {@code --kd-weight} (0.9), {@code --seed} (42),
 * {@code --batch} (64), {@code --train-limit} (0 = all), {@code --master} (local[*]),
 * {@code --averaging-frequency} (5), {@code --teacher-outputs cache|executors} (cache),
 * {@code --training-master averaging|sharing} (averaging), {@code --sharing-threshold} (1e-3),
 * {@code --sharing-port} (40123), {@code --controller} (the driver's address the executors reach; 127.0.0.1
 * in local mode, else {@code spark.driver.host}), {@code --network-mask} (the executors' subnet; 127.0.0.0/8 in
 * local mode, else the controller's /16),
 * {@code --compare}, {@code --work DIR}, {@code --report FILE}.
 */
public final class SparkDistillation {

    /** One trainer's result: student-training wall time (teacher outputs excluded) and test accuracy. */
    public record Row(String trainer, double accuracy, double seconds) {
    }

    /** The example's result. */
    public record Result(String data, double teacherAccuracy, List<Row> rows, String objective) {
        public Row row(String prefix) {
            return rows.stream().filter(r -> r.trainer().startsWith(prefix)).findFirst().orElseThrow();
        }
    }

    private SparkDistillation() {
    }

    public static void main(String[] args) {
        Args.main(args, SparkDistillation::runExample);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        String dataDir = args.text("data", null);
        int teacherEpochs = args.integer("teacher-epochs", 2);
        int studentEpochs = args.integer("student-epochs", 3);
        int hidden = args.integer("hidden", 32);
        double temperature = args.real("temperature", 4.0);
        double kdWeight = args.real("kd-weight", 0.9);
        long seed = args.integer("seed", 42);
        int batch = args.integer("batch", 64);
        int trainLimit = args.integer("train-limit", 0);
        String master = args.text("master", "local[*]");
        int averaging = args.integer("averaging-frequency", 5);
        String outputs = args.text("teacher-outputs", "cache");
        String trainer = args.text("training-master", "averaging");
        double threshold = args.real("sharing-threshold", 1e-3);
        int port = args.integer("sharing-port", 40123);
        String controller = args.text("controller", null);
        String networkMask = args.text("network-mask", null);
        boolean compare = args.flag("compare");
        Path work = Path.of(args.text("work", "target/kd4j-spark-example"));
        String report = args.text("report", null);
        args.finish();
        if (kdWeight < 0 || kdWeight > 1) {
            throw new IllegalArgumentException("--kd-weight must be in [0, 1], got " + kdWeight);
        }
        if (!outputs.equals("cache") && !outputs.equals("executors")) {
            throw new IllegalArgumentException("--teacher-outputs must be cache or executors, got '" + outputs + "'");
        }
        if (!trainer.equals("averaging") && !trainer.equals("sharing")) {
            throw new IllegalArgumentException("--training-master must be averaging or sharing, got '" + trainer + "'");
        }
        if (!(threshold > 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("--sharing-threshold must be > 0 and finite, got " + threshold);
        }
        if (port < 1024 || port > 65535) {
            throw new IllegalArgumentException("--sharing-port must be in 1024..65535, got " + port);
        }
        if (averaging < 1) {
            throw new IllegalArgumentException("--averaging-frequency must be >= 1, got " + averaging);
        }
        PrintStream out = System.out;
        Files.createDirectories(work);

        FashionMnist.Data data = FashionMnist.load(dataDir);
        INDArray trainX = data.train().features();
        INDArray trainY = data.train().labels();
        if (trainLimit > 0 && trainLimit < data.train().size()) {
            trainX = trainX.get(NDArrayIndex.interval(0, trainLimit), NDArrayIndex.all()).dup();
            trainY = trainY.get(NDArrayIndex.interval(0, trainLimit), NDArrayIndex.all()).dup();
        }
        String source = data.source() + (trainLimit > 0 ? ", first " + trainX.size(0) + " training examples" : "");
        out.println("data: " + source);
        InMemoryDataSetIterator test = new InMemoryDataSetIterator(data.test().features(), data.test().labels(), 500, null);
        Objective objective = Objective.parse(String.format(Locale.ROOT,
                "%s*CrossEntropy + %s*SoftTargetKl(temperature=%s)", Math.round((1 - kdWeight) * 1e9) / 1e9, kdWeight,
                temperature));

        MultiLayerNetwork teacherNet = Models.cnnTeacher(seed);
        InMemoryDataSetIterator teacherData = new InMemoryDataSetIterator(trainX, trainY, batch, seed);
        for (int e = 1; e <= teacherEpochs; e++) {
            teacherData.reset();
            teacherNet.fit(teacherData);
            out.printf(Locale.ROOT, "teacher epoch %d/%d: score %.4f%n", e, teacherEpochs, teacherNet.score());
        }
        double teacherAccuracy = Metrics.accuracy(teacherNet, test);
        out.printf(Locale.ROOT, "teacher (CNN) test accuracy %.2f %%%n", 100 * teacherAccuracy);

        SparkConf conf = new SparkConf().setAppName("kd4j Fashion-MNIST distillation")
                .setIfMissing("spark.master", master).setIfMissing("spark.ui.enabled", "false");
        List<Row> rows = new ArrayList<>();
        TargetLayout layout = TargetLayout.dense(10);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            int workers = sc.defaultParallelism();
            List<DataSet> plain = batches(new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2));
            JavaRDD<DataSet> plainRdd = sc.parallelize(plain, workers);
            long t0 = System.nanoTime();
            JavaRDD<DataSet> packed;
            if (outputs.equals("cache")) {
                Path cache = work.resolve("teacher-" + Teacher.of(teacherNet).fingerprint() + ".kdc");
                out.println(SparkTeacherOutputs.writeCache(sc, teacherNet, plainRdd, cache));
                CachedTeacher cached = TeacherCache.open(cache, Teacher.of(teacherNet));
                packed = sc.parallelize(PackedBatches.pack(new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2),
                        cached, layout), workers);
            } else {
                packed = SparkTeacherOutputs.attach(sc, teacherNet, plainRdd, layout);
            }
            out.printf(Locale.ROOT, "teacher outputs (%s) on %s: %.1f s%n", outputs, sc.master(), secondsSince(t0));

            TrainingMaster<?, ?> tm;
            String label;
            if (trainer.equals("averaging")) {
                tm = SparkTrainingMasters.averaging(workers, batch, averaging, seed, work.resolve("spark-export"));
                label = workers + " workers, parameter averaging every " + averaging;
            } else {
                boolean local = sc.master().startsWith("local[") || sc.master().equals("local");
                String address = controller != null ? controller
                        : local ? "127.0.0.1" : sc.getConf().get("spark.driver.host", "127.0.0.1");
                String mask = networkMask != null ? networkMask : local ? "127.0.0.0/8" : subnet16(address);
                tm = SparkTrainingMasters.sharing(workers, batch, threshold, seed, address, mask, port);
                label = "gradient sharing, threshold " + threshold + ", one worker per executor JVM"
                        + (local ? ": 1 worker in local mode" : "");
            }
            t0 = System.nanoTime();
            Model student = new SparkDistiller(studentEpochs).distill(sc,
                    Student.of(Models.mlpStudent(seed + 1, hidden)), objective, packed, tm).student();
            rows.add(new Row("Spark " + sc.master() + " (" + label + ")", Metrics.accuracy(student, test),
                    secondsSince(t0)));
            ((MultiLayerNetwork) student).save(work.resolve("student-spark.zip").toFile(), false);
            packed.unpersist(false);
        }
        if (compare) {
            Teacher cached = TeacherCache.open(work.resolve("teacher-" + Teacher.of(teacherNet).fingerprint() + ".kdc"));
            if (!outputs.equals("cache")) {
                Path file = work.resolve("teacher-" + Teacher.of(teacherNet).fingerprint() + ".kdc");
                TeacherCache.write(Teacher.of(teacherNet), new InMemoryDataSetIterator(trainX, trainY, 500, null), file);
                cached = TeacherCache.open(file, Teacher.of(teacherNet));
            }
            long t0 = System.nanoTime();
            Model single = Distiller.builder().teacher(cached).objective(objective).epochs(studentEpochs).seed(seed)
                    .build().distill(Student.of(Models.mlpStudent(seed + 1, hidden)),
                            new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2)).student();
            rows.add(new Row("one worker (Distiller)", Metrics.accuracy(single, test), secondsSince(t0)));
            t0 = System.nanoTime();
            Model pw = new ParallelWrapperDistiller(2, averaging, ParallelWrapper.TrainingMode.AVERAGING, studentEpochs,
                    seed).distill(Student.of(Models.mlpStudent(seed + 1, hidden)), cached, objective,
                    new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2)).student();
            rows.add(new Row("ParallelWrapper (2 workers, averaging every " + averaging + ")",
                    Metrics.accuracy(pw, test), secondsSince(t0)));
        }
        Result result = new Result(source, teacherAccuracy, rows, objective.describe());
        String table = table(result, studentEpochs, batch, hidden, outputs);
        out.println();
        out.print(table);
        ExampleData.writeReport(report, table, out);
        return result;
    }

    /** The /16 subnet of an IPv4 address, the default network mask of the executors on a cluster. */
    static String subnet16(String address) {
        String[] octets = address.split("\\.");
        if (octets.length != 4 || !address.matches("[0-9.]+")) {
            throw new IllegalArgumentException("--network-mask is needed when the controller address is not an IPv4 "
                    + "address, got '" + address + "'");
        }
        return octets[0] + "." + octets[1] + ".0.0/16";
    }

    private static List<DataSet> batches(InMemoryDataSetIterator it) {
        List<DataSet> out = new ArrayList<>();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    static String table(Result r, int epochs, int batch, int hidden, String outputs) {
        StringBuilder b = new StringBuilder();
        b.append("| student trainer | test accuracy | student training wall time (s) |\n|---|---|---|\n");
        for (Row row : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f %% | %.1f |%n", row.trainer(), 100 * row.accuracy(),
                    row.seconds()));
        }
        b.append(String.format(Locale.ROOT, "%ndata: %s; teacher CNN %.2f %%; student MLP 784-%d-10, %d epochs, "
                        + "batch %d (per worker), Adam 1e-3; objective %s; teacher outputs: %s.%n", r.data(),
                100 * r.teacherAccuracy(), hidden, epochs, batch, r.objective(), outputs));
        return b.toString();
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
