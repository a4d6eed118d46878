package io.kd4j.examples.bench;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.cache.TopKCacheOptions;
import io.kd4j.core.cache.TopKTeacherCache;
import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import io.kd4j.core.train.EpochStats;
import io.kd4j.examples.Models;
import io.kd4j.examples.data.FashionMnist;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Training measurements on Fashion-MNIST, printed as {@code RESULT key=value} lines for
 * {@link PerformanceSuite}:
 * <ul>
 *   <li>{@code throughput [examples] [mlp|cnn] [rounds]}: samples/s of one student (MLP 784-128-10, or with
 *       {@code cnn} the main example's CNN student, {@link Models#cnnStudent} with 8 channels and dense 32;
 *       batch 128) trained on hard labels,
 *       with KD from cached teacher outputs, and with KD from the teacher run online (MLP
 *       784-1200-1200-10), and the teacher's share of the online epoch: medians over the rounds (10 after a warm-up by default) in which
 *       the three alternate (fresh students, 2 epochs each, the second timed); also the median step
 *       (time between two DL4J iterations) of the cached epoch over that of the hard-label epoch, and
 *       the collectors' time per epoch; and the cached epoch against a hard-label epoch through kd4j's own
 *       loss (fused cross-entropy on packed labels, no teacher), which leaves out the difference between
 *       kd4j's loss and DL4J's softmax + MCXENT;</li>
 *   <li>{@code accuracy}: test accuracy of a small student (MLP 784-16-10) trained on hard labels,
 *       with dense KD from a cache, and with top-k KD (k = 3 and k = 1, float16) from a top-k cache, all
 *       from the same trained teacher (MLP 784-512-512-10).</li>
 * </ul>
 */
public final class TrainingProbe {
    private TrainingProbe() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "throughput";
        int examples = args.length > 1 ? Integer.parseInt(args[1]) : 12000;
        String student = args.length > 2 ? args[2] : "mlp";
        if (!student.equals("mlp") && !student.equals("cnn")) {
            throw new IllegalArgumentException("student must be mlp or cnn, got '" + student + "'");
        }
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : ROUNDS;
        if (rounds < 2) {
            throw new IllegalArgumentException("rounds must be >= 2 (the first is a warm-up), got " + rounds);
        }
        FashionMnist.Data data = FashionMnist.load(null);
        int n = Math.min(examples, data.train().size());
        INDArray x = data.train().features().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray y = data.train().labels().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        System.out.println("RESULT data=" + data.source().replace(' ', '_') + "," + n + "_train_examples");
        if (what.equals("throughput")) {
            System.out.println("RESULT student=" + (student.equals("cnn") ? "cnn_8_channels_dense_32" : "mlp_784_128_10"));
            throughput(x, y, student.equals("cnn"), rounds);
        } else {
            accuracy(x, y, data.test());
        }
    }

    private static InMemoryDataSetIterator it(INDArray x, INDArray y, int batch) {
        return new InMemoryDataSetIterator(x, y, batch, null);
    }

    private static MultiLayerNetwork mlp(long seed, int... layers) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER).list();
        for (int i = 1; i < layers.length - 1; i++) {
            b.layer(new DenseLayer.Builder().nIn(layers[i - 1]).nOut(layers[i]).activation(Activation.RELU).build());
        }
        b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(layers[layers.length - 2])
                .nOut(layers[layers.length - 1]).activation(Activation.SOFTMAX).build());
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        return net;
    }

    /** Rounds of the throughput measurement; the first warms the JIT up and is not counted. */
    private static final int ROUNDS = 11;
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * Rounds of: a hard-label student, a student distilled from the cached teacher and one distilled
     * from the online teacher, each fresh and trained 2 epochs, the second timed (wall, and process CPU
     * time, which a busy machine disturbs less). The three alternate, so a change of load on a shared
     * machine hits all three alike; the medians over the rounds are printed.
     */
    private static void throughput(INDArray x, INDArray y, boolean cnn, int rounds) throws Exception {
        int batch = 128;
        int n = (int) x.size(0);
        MultiLayerNetwork teacherNet = mlp(2, 784, 1200, 1200, 10);
        Teacher teacher = Teacher.of(teacherNet);
        Path dir = Files.createTempDirectory("kd4j-bench");
        Path cache = dir.resolve("teacher.cache");
        TeacherCache.write(teacher, it(x, y, 500), cache);
        Teacher cachedTeacher = TeacherCache.open(cache, teacher);
        String objective = "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)";
        int counted = rounds - 1;
        double[] hard = new double[counted];
        double[] cached = new double[counted];
        double[] online = new double[counted];
        double[] onlineTeacher = new double[counted];
        double[] cachedRatio = new double[counted];
        double[] onlineRatio = new double[counted];
        double[] cachedCpuRatio = new double[counted];
        double[] stepRatio = new double[counted];
        double[] hardStep = new double[counted];
        double[] cachedStep = new double[counted];
        double[] hardGc = new double[counted];
        double[] cachedGc = new double[counted];
        double[] hardKd4j = new double[counted];
        double[] cachedKd4jRatio = new double[counted];
        // hard labels through kd4j's loss: [one-hot | zero teacher block | epoch 1], objective CrossEntropy
        INDArray packed = Nd4j.hstack(y, Nd4j.zeros(y.dataType(), n, 10), Nd4j.ones(y.dataType(), n, 1));
        for (int r = 0; r < rounds; r++) {
            MultiLayerNetwork plain = student(cnn);
            StepClock hardClock = new StepClock();
            plain.setListeners(hardClock);
            plain.fit(it(x, y, batch));
            long t0 = System.nanoTime();
            long c0 = OS.getProcessCpuTime();
            plain.fit(it(x, y, batch));
            double h = (System.nanoTime() - t0) / 1e9;
            double hCpu = (OS.getProcessCpuTime() - c0) / 1e9;
            MultiLayerNetwork viaKd4j = (MultiLayerNetwork) Student.of(student(cnn)).trainingModel(
                    DistillationLossFunction.of(Objective.parse("CrossEntropy"), TargetLayout.dense(10))).network();
            viaKd4j.fit(it(x, packed, batch));
            long t1 = System.nanoTime();
            viaKd4j.fit(it(x, packed, batch));
            double hk = (System.nanoTime() - t1) / 1e9;
            EpochCpu cachedCpu = new EpochCpu();
            StepClock cachedClock = new StepClock();
            EpochStats c = secondEpoch(student(cnn), cachedTeacher, objective, x, y, batch, cachedCpu, cachedClock);
            EpochStats o = secondEpoch(student(cnn), teacher, objective, x, y, batch, new EpochCpu());
            if (r > 0) {
                hardStep[r - 1] = hardClock.medianStep();
                cachedStep[r - 1] = cachedClock.medianStep();
                stepRatio[r - 1] = cachedStep[r - 1] / hardStep[r - 1];
                hardGc[r - 1] = hardClock.gcSeconds;
                cachedGc[r - 1] = cachedClock.gcSeconds;
                hard[r - 1] = h;
                cached[r - 1] = c.teacherSeconds() + c.studentSeconds();
                online[r - 1] = o.teacherSeconds() + o.studentSeconds();
                onlineTeacher[r - 1] = o.teacherSeconds();
                cachedRatio[r - 1] = cached[r - 1] / h;
                onlineRatio[r - 1] = online[r - 1] / (h + o.teacherSeconds());
                cachedCpuRatio[r - 1] = cachedCpu.seconds / hCpu;
                hardKd4j[r - 1] = hk;
                cachedKd4jRatio[r - 1] = cached[r - 1] / hk;
            }
        }
        Files.deleteIfExists(cache);
        Files.deleteIfExists(dir);
        System.out.printf("RESULT rounds=%d (after 1 warm-up round; medians; each run's 2nd epoch)%n", counted);
        System.out.printf("RESULT load_average=%s%n", PerformanceSuite.loadAverage().replace(' ', '_'));
        System.out.printf("RESULT hard_samples_per_s=%.0f%n", n / median(hard));
        System.out.printf("RESULT cached_samples_per_s=%.0f%n", n / median(cached));
        System.out.printf("RESULT online_samples_per_s=%.0f%n", n / median(online));
        System.out.printf("RESULT online_teacher_share=%.3f%n", median(onlineTeacher) / median(online));
        System.out.printf("RESULT cached_over_hard=%.3f (rounds: %s)%n", median(cachedRatio), rounded(cachedRatio));
        System.out.printf("RESULT cached_over_hard_cpu=%.3f (rounds: %s)%n", median(cachedCpuRatio),
                rounded(cachedCpuRatio));
        // interference from the rest of the machine only adds time: the fastest epochs are the steadier estimate
        System.out.printf("RESULT cached_over_hard_fastest=%.3f (fastest cached epoch %.3f s / fastest hard %.3f s)%n",
                min(cached) / min(hard), min(cached), min(hard));
        // the same comparison against hard labels through kd4j's loss (identity output, fused cross-entropy on
        // packed labels) instead of DL4J's softmax + MCXENT: what the teacher outputs alone add
        System.out.printf("RESULT hard_kd4j_loss_samples_per_s=%.0f%n", n / median(hardKd4j));
        System.out.printf("RESULT cached_over_hard_kd4j_loss=%.3f (rounds: %s)%n", median(cachedKd4jRatio),
                rounded(cachedKd4jRatio));
        System.out.printf("RESULT online_over_hard_plus_teacher=%.3f (rounds: %s)%n", median(onlineRatio),
                rounded(onlineRatio));
        // a step's time is the time between two DL4J iterations (data, attaching cached outputs, the step
        // and the distiller's checks); the median step of an epoch leaves out the rare slow ones (a GC
        // pause, the rest of the machine), whose GC part is printed beside it
        System.out.printf("RESULT cached_over_hard_median_step=%.3f (rounds: %s)%n", median(stepRatio),
                rounded(stepRatio));
        System.out.printf("RESULT median_step_ms=hard_%.3f,cached_%.3f (medians over the rounds)%n",
                1e3 * median(hardStep), 1e3 * median(cachedStep));
        System.out.printf("RESULT gc_ms_per_epoch=hard_%.1f,cached_%.1f (medians over the rounds)%n",
                1e3 * median(hardGc), 1e3 * median(cachedGc));
    }

    /** A fresh student: the MLP 784-128-10, or the main example's CNN (8 channels, dense 32). */
    private static MultiLayerNetwork student(boolean cnn) {
        return cnn ? Models.cnnStudent(1, 8, 32) : Models.mlpStudent(1, 128);
    }

    /** The second epoch of a fresh student distilled for two epochs; its process CPU time goes to {@code cpu}. */
    private static EpochStats secondEpoch(MultiLayerNetwork student, Teacher teacher, String objective, INDArray x,
                                          INDArray y, int batch, TrainingListener... listeners) {
        Distiller.Builder b = Distiller.builder().teacher(teacher).objective(objective).epochs(2);
        for (TrainingListener l : listeners) {
            b.listener(l);
        }
        DistillationResult r = b.build().distill(Student.of(student), it(x, y, batch));
        return r.report().epochs().get(1);
    }

    /**
     * Wall time between consecutive DL4J iterations of the last epoch (the first measured from the
     * epoch's start), and the collectors' time in that epoch.
     */
    private static final class StepClock extends BaseTrainingListener {
        private final List<Long> steps = new ArrayList<>();
        private long last;
        private long gcStart;
        private double gcSeconds;

        @Override
        public void onEpochStart(Model model) {
            steps.clear();
            gcStart = gcMillis();
            last = System.nanoTime();
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            long now = System.nanoTime();
            steps.add(now - last);
            last = now;
        }

        @Override
        public void onEpochEnd(Model model) {
            gcSeconds = (gcMillis() - gcStart) / 1e3;
        }

        double medianStep() {
            return median(steps.stream().mapToDouble(v -> v / 1e9).toArray());
        }

        private static long gcMillis() {
            long sum = 0;
            for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
                sum += Math.max(0, b.getCollectionTime());
            }
            return sum;
        }
    }

    /** Process CPU seconds of the last epoch DL4J's {@code fit} ran (from epoch start to epoch end). */
    private static final class EpochCpu extends BaseTrainingListener {
        private long start;
        private double seconds;

        @Override
        public void onEpochStart(Model model) {
            start = OS.getProcessCpuTime();
        }

        @Override
        public void onEpochEnd(Model model) {
            seconds = (OS.getProcessCpuTime() - start) / 1e9;
        }
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String rounded(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : " ").append(String.format(java.util.Locale.ROOT, "%.2f", d));
        }
        return b.toString();
    }

    private static void accuracy(INDArray x, INDArray y, FashionMnist.Split test) throws Exception {
        int epochs = 4;
        MultiLayerNetwork teacherNet = mlp(2, 784, 512, 512, 10);
        for (int e = 0; e < epochs; e++) {
            teacherNet.fit(new InMemoryDataSetIterator(x, y, 128, 40L + e));
        }
        InMemoryDataSetIterator testIt = it(test.features(), test.labels(), 1000);
        System.out.printf("RESULT teacher_accuracy=%.4f%n", Metrics.accuracy(teacherNet, testIt));
        MultiLayerNetwork alone = mlp(3, 784, 16, 10);
        for (int e = 0; e < epochs; e++) {
            alone.fit(new InMemoryDataSetIterator(x, y, 128, 40L + e));
        }
        System.out.printf("RESULT hard_accuracy=%.4f%n", Metrics.accuracy(alone, testIt));
        Teacher teacher = Teacher.of(teacherNet);
        Path dir = Files.createTempDirectory("kd4j-acc");
        Path dense = dir.resolve("dense.cache");
        TeacherCache.write(teacher, it(x, y, 500), dense);
        double tau = 4.0;
        Model kd = Distiller.builder().teacher(TeacherCache.open(dense, teacher)).epochs(epochs)
                .objective("0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)").build()
                .distill(Student.of(mlp(3, 784, 16, 10)), it(x, y, 128)).student();
        System.out.printf("RESULT dense_kd_accuracy=%.4f%n", Metrics.accuracy(kd, testIt));
        System.out.printf("RESULT dense_bytes_per_example=%.1f%n", (Files.size(dense) - 4096.0) / x.size(0));
        for (int k : new int[] {3, 1}) {
            Path file = dir.resolve("top" + k + ".cache");
            TopKTeacherCache.write(teacher, it(x, y, 500), file, new TopKCacheOptions(k, true, tau));
            try (CachedTopKTeacher c = TopKTeacherCache.open(file, teacher, k, null)) {
                Model s = Distiller.builder().topKCache(c).epochs(epochs)
                        .objective("0.1*CrossEntropy + 0.9*SparseTopKKl(temperature=4.0)").build()
                        .distill(Student.of(mlp(3, 784, 16, 10)), it(x, y, 128)).student();
                System.out.printf("RESULT top%d_f16_kd_accuracy=%.4f%n", k, Metrics.accuracy(s, testIt));
                System.out.printf("RESULT top%d_f16_bytes_per_example=%d%n", k, c.bytesPerExample());
            }
            Files.deleteIfExists(file);
        }
        Files.deleteIfExists(dense);
        Files.deleteIfExists(dir);
    }
}
