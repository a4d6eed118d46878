package io.kd4j.examples;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.data.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The main example: Fashion-MNIST end to end. Takes a CNN teacher, then trains the same small CNN student
 * twice with the same initialisation and data order (hard labels only, and with KD from the cached
 * teacher), and prints teacher / student alone / student with KD test accuracy, parameter counts and
 * wall time. Protocol: accuracy of the last epoch, fixed seeds, nothing tuned on the test set.
 *
 * <p>The teacher: by default the shipped one ({@code teacher/fashion-cnn-teacher.zip} in the
 * resources: {@link Models#cnnTeacher} trained on the full 60,000-image training set with this
 * example's training loop, seed 42, batch 64, 12 epochs, the same as {@code --data
 * /usr/share/datasets/fashion-mnist --teacher train --save-teacher FILE}), because a teacher trained on
 * the 8,000-image subset is barely better than the student; {@code --teacher train} trains it here, {@code --teacher FILE}
 * loads one. The student: {@link Models#cnnStudent} (8 channels, dense 32), 7× less computation
 * than the teacher; {@code --student mlp --hidden N} for an MLP.
 *
 * <p>Flags: {@code --data DIR|embedded} (default: the Debian package's files when installed, else the
 * embedded subset), {@code --teacher-epochs}, {@code --student-epochs}, {@code --hidden},
 * {@code --temperature}, {@code --kd-weight}, {@code --seed}, {@code --batch}, {@code --train-limit},
 * {@code --online} (run the teacher on every batch instead of caching), {@code --work DIR},
 * {@code --report FILE} (write the table as markdown). Without {@code --student-epochs} and
 * {@code --temperature} the student trains 10 epochs at T = 2 on the embedded subset and 6 epochs at T = 1
 * on the full set ({@link Defaults}); the KD weight is 0.5.
 */
public final class FashionMnistDistillation {

    /** One row of the result table. */
    public record Row(String model, double accuracy, long parameters, double seconds) {
    }

    /** The example's result. */
    public record Result(String data, List<Row> rows, String objective) {
        public Row row(String model) {
            return rows.stream().filter(r -> r.model().equals(model)).findFirst().orElseThrow();
        }
    }

    /**
     * The student epochs and KD temperature used when the flags are not given, each chosen on a validation
     * split of its data set and never on the test set (docs/results/main-example.md): on the embedded
     * subset (8,000 training images) 10 epochs at T = 2, on the full set (more than 20,000) 6 epochs at
     * T = 1. The KD weight is 0.5 for both.
     */
    public record Defaults(int studentEpochs, double temperature) {
        public static Defaults forTrainingSet(long examples) {
            return examples > 20_000 ? new Defaults(6, 1.0) : new Defaults(10, 2.0);
        }
    }

    /** Resource path of the shipped teacher (see the class Javadoc). */
    public static final String SHIPPED_TEACHER = "/teacher/fashion-cnn-teacher.zip";

    private FashionMnistDistillation() {
    }

    public static void main(String[] args) {
        Args.main(args, FashionMnistDistillation::runExample);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        String dataDir = args.text("data", null);
        int teacherEpochs = args.integer("teacher-epochs", 12);
        int studentEpochsFlag = args.integer("student-epochs", 0);
        int hidden = args.integer("hidden", 32);
        String studentKind = args.text("student", "cnn");
        Double temperatureFlag = args.realOrNull("temperature");
        double kdWeight = args.real("kd-weight", 0.5);
        String teacherChoice = args.text("teacher", null);
        String saveTeacher = args.text("save-teacher", null);
        long seed = args.integer("seed", 42);
        int batch = args.integer("batch", 64);
        int trainLimit = args.integer("train-limit", 0);
        boolean online = args.flag("online");
        Path work = Path.of(args.text("work", "target/kd4j-example"));
        String report = args.text("report", null);
        args.finish();
        if (kdWeight < 0 || kdWeight > 1) {
            throw new IllegalArgumentException("--kd-weight must be in [0, 1], got " + kdWeight);
        }
        if (temperatureFlag != null && !(temperatureFlag > 0 && Double.isFinite(temperatureFlag))) {
            throw new IllegalArgumentException("--temperature must be > 0, got " + temperatureFlag);
        }
        PrintStream out = System.out;

        FashionMnist.Data data = FashionMnist.load(dataDir);
        FashionMnist.Split train = data.train().first(trainLimit);
        INDArray trainX = train.features();
        INDArray trainY = train.labels();
        Defaults defaults = Defaults.forTrainingSet(trainX.size(0));
        int studentEpochs = studentEpochsFlag > 0 ? studentEpochsFlag : defaults.studentEpochs();
        double temperature = temperatureFlag != null ? temperatureFlag : defaults.temperature();
        if (!studentKind.equals("cnn") && !studentKind.equals("mlp")) {
            throw new IllegalArgumentException("--student must be cnn or mlp, got '" + studentKind + "'");
        }
        String source = data.source() + (trainLimit > 0 ? ", first " + trainX.size(0) + " training examples" : "");
        out.println("data: " + source);
        InMemoryDataSetIterator test = new InMemoryDataSetIterator(data.test().features(), data.test().labels(), 500, null);
        List<Row> rows = new ArrayList<>();

        // 1. teacher: plain DL4J training on the full set, the shipped one on the embedded subset
        if (teacherChoice == null) {
            teacherChoice = "shipped";
        }
        MultiLayerNetwork teacherNet;
        long t0 = System.nanoTime();
        String teacherName;
        if (teacherChoice.equals("train")) {
            teacherNet = Models.cnnTeacher(seed);
            trainPlain(teacherNet, new InMemoryDataSetIterator(trainX, trainY, batch, seed), teacherEpochs, "teacher", out);
            teacherName = "teacher (CNN, trained here, " + teacherEpochs + " epochs)";
        } else if (teacherChoice.equals("shipped")) {
            teacherNet = shippedTeacher();
            teacherName = "teacher (CNN, shipped: trained on the full training set)";
            out.println("teacher: loaded " + SHIPPED_TEACHER + " (the same CNN trained by this example on the full "
                    + "Fashion-MNIST training set)");
        } else {
            teacherNet = ModelSerializer.restoreMultiLayerNetwork(new java.io.File(teacherChoice), false);
            teacherName = "teacher (CNN, loaded from " + teacherChoice + ")";
        }
        if (saveTeacher != null) {
            ModelSerializer.writeModel(teacherNet, new java.io.File(saveTeacher), false);
        }
        rows.add(new Row(teacherName, Metrics.accuracy(teacherNet, test), teacherNet.numParams(), secondsSince(t0)));

        // 2. student alone: hard labels only
        String studentName = studentKind.equals("cnn") ? "CNN 5x5x8-pool-" + hidden + "-10" : "MLP 784-" + hidden + "-10";
        MultiLayerNetwork alone = student(studentKind, seed + 1, hidden);
        t0 = System.nanoTime();
        trainPlain(alone, new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2), studentEpochs, "student alone", out);
        rows.add(new Row("student alone (" + studentName + ")", Metrics.accuracy(alone, test), alone.numParams(),
                secondsSince(t0)));

        // 3. the same student with KD (same initialisation, same data order)
        String objective = String.format(Locale.ROOT, "%s*CrossEntropy + %s*SoftTargetKl(temperature=%s)",
                Math.round((1 - kdWeight) * 1e9) / 1e9, kdWeight, temperature);
        t0 = System.nanoTime();
        Teacher teacher = Teacher.of(teacherNet);
        if (!online) {
            Files.createDirectories(work);
            Path cache = work.resolve("teacher-" + teacher.fingerprint() + ".kdc");
            TeacherCache.write(teacher, new InMemoryDataSetIterator(trainX, trainY, 500, null), cache);
            teacher = TeacherCache.open(cache, teacher);
        }
        DistillationResult kd = Distiller.builder()
                .teacher(teacher)
                .objective(objective)
                .epochs(studentEpochs)
                .seed(seed)
                .data(source)
                .progress(out, 100)
                .build()
                .distill(Student.of(student(studentKind, seed + 1, hidden)),
                        new InMemoryDataSetIterator(trainX, trainY, batch, seed + 2));
        Model student = kd.student();
        rows.add(new Row("student with KD (" + studentName + ")", Metrics.accuracy(student, test),
                student.numParams(), secondsSince(t0)));
        kd.save(work.resolve("student-kd.zip"));

        Result result = new Result(source, rows, objective);
        String table = table(result, seed, studentEpochs, batch, online);
        out.println();
        out.print(table);
        ExampleData.writeReport(report, table, out);
        return result;
    }

    /** The shipped teacher ({@link #SHIPPED_TEACHER}), restored from the example's resources. */
    static MultiLayerNetwork shippedTeacher() throws IOException {
        try (java.io.InputStream in = FashionMnistDistillation.class.getResourceAsStream(SHIPPED_TEACHER)) {
            if (in == null) {
                throw new IOException("shipped teacher " + SHIPPED_TEACHER + " is missing from the classpath");
            }
            return ModelSerializer.restoreMultiLayerNetwork(in, false);
        }
    }

    static String table(Result r, long seed, int studentEpochs, int batch, boolean online) {
        StringBuilder b = new StringBuilder();
        b.append("| model | test accuracy | parameters | wall time (s) |\n|---|---|---|---|\n");
        for (Row row : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f %% | %,d | %.1f |%n", row.model(), 100 * row.accuracy(),
                    row.parameters(), row.seconds()));
        }
        b.append(String.format(Locale.ROOT, "%ndata: %s; seed %d; students %d epochs, batch %d, Adam 1e-3, same "
                        + "initialisation and data order; objective %s; teacher outputs %s; accuracy of the last epoch on "
                        + "the test set, nothing tuned on it.%n",
                r.data(), seed, studentEpochs, batch, r.objective(), online ? "online" : "cached"));
        return b.toString();
    }

    private static MultiLayerNetwork student(String kind, long seed, int hidden) {
        return kind.equals("cnn") ? Models.cnnStudent(seed, 8, hidden) : Models.mlpStudent(seed, hidden);
    }

    private static void trainPlain(MultiLayerNetwork net, InMemoryDataSetIterator it, int epochs, String name,
                                   PrintStream out) {
        long start = System.nanoTime();
        for (int e = 1; e <= epochs; e++) {
            it.reset();
            net.fit(it);
            double elapsed = secondsSince(start);
            long eta = Math.round(elapsed / e * (epochs - e));
            out.printf(Locale.ROOT, "%s epoch %d/%d: score %.4f, %.1f s, ETA %d:%02d%n", name, e, epochs, net.score(),
                    elapsed, eta / 60, eta % 60);
        }
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
