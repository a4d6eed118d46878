package io.kd4j.examples;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.data.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * How the main example's defaults were chosen without the test set: the training set is split into a
 * training part (all but the last {@code --validation} images) and a validation part (the last ones),
 * and the main example's student is trained on the training part, alone and with each objective, then
 * scored on the validation part. The test set is never read. The student, its initialisation
 * ({@code seed + 1}), the data order ({@code seed + 2}), batch 64 and the cached-teacher path are those
 * of {@link FashionMnistDistillation}.
 *
 * <p>Flags: {@code --data DIR|embedded}, {@code --validation N} (default 10,000 on the full set, 2,000
 * on the embedded subset), {@code --student-epochs} (3), {@code --seed} (42), {@code --teacher
 * shipped|FILE}, {@code --objectives "alone;OBJECTIVE;..."} (semicolon-separated; {@code alone} is the
 * student on hard labels), {@code --train-limit N} (first N images of the training part, for tests),
 * {@code --work DIR}.
 */
public final class ValidationSweep {

    /** One configuration's validation accuracy. */
    public record Row(String objective, int epochs, double accuracy, double seconds) {
    }

    private ValidationSweep() {
    }

    public static void main(String[] args) {
        Args.main(args, ValidationSweep::runExample);
    }

    public static List<Row> runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        String dataDir = args.text("data", null);
        int validationFlag = args.integer("validation", 0);
        int epochs = args.integer("student-epochs", 3);
        long seed = args.integer("seed", 42);
        String teacherChoice = args.text("teacher", "shipped");
        String objectives = args.text("objectives", "alone;0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)");
        int trainLimit = args.integer("train-limit", 0);
        Path work = Path.of(args.text("work", "target/kd4j-validation"));
        args.finish();
        if (epochs < 1) {
            throw new IllegalArgumentException("--student-epochs must be >= 1, got " + epochs);
        }
        List<String> configs = Arrays.stream(objectives.split(";")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (configs.isEmpty()) {
            throw new IllegalArgumentException("--objectives must name at least one configuration, got '" + objectives + "'");
        }
        PrintStream out = System.out;
        FashionMnist.Data data = FashionMnist.load(dataDir);
        INDArray x = data.train().features();
        INDArray y = data.train().labels();
        long n = x.size(0);
        int validation = validationFlag > 0 ? validationFlag : n > 20_000 ? 10_000 : 2_000;
        if (validation >= n) {
            throw new IllegalArgumentException("--validation must be < the " + n + " training images, got " + validation);
        }
        long trainEnd = n - validation;
        long used = trainLimit > 0 ? Math.min(trainLimit, trainEnd) : trainEnd;
        FashionMnist.Split trainingPart = data.train().first((int) used);
        INDArray tx = trainingPart.features();
        INDArray ty = trainingPart.labels();
        INDArray vx = x.get(NDArrayIndex.interval(trainEnd, n), NDArrayIndex.all()).dup();
        INDArray vy = y.get(NDArrayIndex.interval(trainEnd, n), NDArrayIndex.all()).dup();
        out.printf(Locale.ROOT, "data: %s; training part: images [0, %d), validation part: [%d, %d); test set not read%n",
                data.source(), used, trainEnd, n);
        InMemoryDataSetIterator val = new InMemoryDataSetIterator(vx, vy, 500, null);
        MultiLayerNetwork teacherNet = teacherChoice.equals("shipped") ? FashionMnistDistillation.shippedTeacher()
                : ModelSerializer.restoreMultiLayerNetwork(new java.io.File(teacherChoice), false);
        out.printf(Locale.ROOT, "teacher on the validation part: %.4f%n", Metrics.accuracy(teacherNet, val));
        Teacher teacher = Teacher.of(teacherNet);
        Files.createDirectories(work);
        Path cache = work.resolve("teacher-" + teacher.fingerprint() + "-" + used + ".kdc");
        TeacherCache.write(teacher, new InMemoryDataSetIterator(tx, ty, 500, null), cache);
        Teacher cached = TeacherCache.open(cache, teacher);
        List<Row> rows = new ArrayList<>();
        for (String cfg : configs) {
            long t0 = System.nanoTime();
            MultiLayerNetwork s = Models.cnnStudent(seed + 1, 8, 32);
            InMemoryDataSetIterator it = new InMemoryDataSetIterator(tx, ty, 64, seed + 2);
            Model m;
            if (cfg.equals("alone")) {
                for (int e = 0; e < epochs; e++) {
                    it.reset();
                    s.fit(it);
                }
                m = s;
            } else {
                m = Distiller.builder().teacher(cached).objective(cfg).epochs(epochs).seed(seed).build()
                        .distill(Student.of(s), it).student();
            }
            Row row = new Row(cfg, epochs, Metrics.accuracy(m, val), (System.nanoTime() - t0) / 1e9);
            rows.add(row);
            out.printf(Locale.ROOT, "VAL seed %d epochs %d | %s | %.4f | %.0f s%n", seed, epochs, cfg, row.accuracy(),
                    row.seconds());
        }
        return rows;
    }
}
