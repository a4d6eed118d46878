package io.kd4j.examples;

import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.ClassGroups;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.LongTailed;
import io.kd4j.core.metrics.Agreement;
import io.kd4j.core.metrics.Evaluation;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.metrics.Predictions;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.data.FashionMnist;
import io.kd4j.examples.experiment.Measurement;
import io.kd4j.examples.experiment.Plots;
import io.kd4j.examples.experiment.Recipe;
import io.kd4j.examples.experiment.ResultsReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs one checked-in experiment recipe ({@code kd-examples/src/main/resources/recipes/NAME.recipe})
 * end to end and writes {@code docs/results/NAME.md} with the tables and PNG plots.
 *
 * <p>Protocol: a balanced validation split ({@code validation-per-class} examples of every class,
 * drawn with seed 2024) is held out of the training data; for a long-tailed recipe the rest is
 * subsampled to the exponential profile ({@link LongTailed}, seed 2024); the test set stays balanced.
 * One CNN teacher ({@link Models#cnnTeacher}) is trained per recipe with the first seed and its
 * training-set logits cached; every run trains the MLP student ({@link Models#mlpStudent}) through the
 * {@link Distiller} with the same initialisation and data order for a given seed, for each seed, and
 * reports the last epoch (no early stopping, nothing tuned on the test set).
 *
 * <p>Flags: {@code --recipe NAME} (required; {@link Recipe#RECIPES}); budget overrides
 * {@code --seeds 1,2,3}, {@code --teacher-epochs}, {@code --student-epochs}, {@code --train-limit N}
 * (first N training examples), {@code --validation-per-class}, {@code --data embedded|DIR};
 * {@code --out DIR} (default: the repository's {@code docs/results}); {@code --no-plots}.
 */
public final class ExperimentRunner {
    /** The seed of the validation split and the long-tail draw (the data, not the models). */
    static final long DATA_SEED = 2024;

    /** One run's label, objective and per-seed measurements. */
    public record RunResult(String label, String objective, List<Measurement> seeds) {
        public RunResult {
            seeds = List.copyOf(seeds);
        }
    }

    /** The experiment's outcome. */
    public record Result(Recipe recipe, String data, long[] classCounts, ClassGroups groups, Measurement teacher,
                         List<RunResult> runs, Path report) {
    }

    private ExperimentRunner() {
    }

    public static void main(String[] args) {
        Args.main(args, ExperimentRunner::runExample);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        String name = args.text("recipe", null);
        if (name == null) {
            throw new IllegalArgumentException("--recipe is required; recipes: " + Recipe.RECIPES);
        }
        Recipe recipe = Recipe.load(name);
        long[] seeds = Arrays.stream(args.text("seeds", recipe.text("seeds")).split(",")).map(String::strip)
                .mapToLong(Long::parseLong).toArray();
        int teacherEpochs = args.integer("teacher-epochs", recipe.integer("teacher-epochs"));
        int studentEpochs = args.integer("student-epochs", recipe.integer("student-epochs"));
        int trainLimit = args.integer("train-limit", 0);
        int perClassVal = args.integer("validation-per-class", recipe.integer("validation-per-class"));
        String dataFlag = args.text("data", recipe.text("data"));
        Path out = Path.of(args.text("out", defaultOut()));
        boolean plots = !args.flag("no-plots");
        args.finish();
        int hidden = recipe.integer("hidden");
        int batch = recipe.integer("batch");
        double imbalance = recipe.real("imbalance");
        PrintStream log = System.out;
        long started = System.nanoTime();

        // data: validation split, then the long tail on the rest; the test set stays balanced
        FashionMnist.Data data = FashionMnist.load(dataFlag);
        INDArray x = data.train().features();
        INDArray y = data.train().labels();
        int[] cls = data.train().classes();
        if (trainLimit > 0 && trainLimit < cls.length) {
            x = x.getRows(range(trainLimit));
            y = y.getRows(range(trainLimit));
            cls = Arrays.copyOf(cls, trainLimit);
        }
        int[][] split = validationSplit(cls, 10, perClassVal);
        INDArray valX = x.getRows(split[0]);
        INDArray valY = y.getRows(split[0]);
        INDArray trainX = x.getRows(split[1]);
        INDArray trainY = y.getRows(split[1]);
        long[] counts;
        ClassGroups groups = null;
        if (imbalance > 1) {
            LongTailed.Subset lt = LongTailed.builder().imbalanceRatio(imbalance).seed(DATA_SEED).build()
                    .apply(trainX, trainY);
            trainX = lt.features();
            trainY = lt.labels();
            counts = lt.classCounts();
            groups = lt.groups();
        } else {
            counts = new long[10];
            for (int i : split[1]) {
                counts[cls[i]]++;
            }
        }
        String countsText = Arrays.stream(counts).mapToObj(Long::toString).reduce((a, b) -> a + ";" + b).orElse("");
        String source = data.source() + (trainLimit > 0 ? ", first " + trainLimit + " training examples" : "")
                + "; training " + trainX.size(0) + " (class counts " + countsText + "), validation " + valX.size(0)
                + ", test " + data.test().size();
        log.println("data: " + source);
        InMemoryDataSetIterator test = new InMemoryDataSetIterator(data.test().features(), data.test().labels(), 500, null);
        InMemoryDataSetIterator val = new InMemoryDataSetIterator(valX, valY, 500, null);

        // teacher: trained once with the first seed, its training-set logits cached
        MultiLayerNetwork teacherNet = Models.cnnTeacher(seeds[0]);
        InMemoryDataSetIterator teacherData = new InMemoryDataSetIterator(trainX, trainY, batch, seeds[0]);
        for (int e = 1; e <= teacherEpochs; e++) {
            teacherData.reset();
            teacherNet.fit(teacherData);
            log.printf(Locale.ROOT, "teacher epoch %d/%d: score %.4f, %.0f s%n", e, teacherEpochs, teacherNet.score(),
                    secondsSince(started));
        }
        Predictions teacherTest = Predictions.of(Teacher.of(teacherNet), test);
        Evaluation teacherEval = Evaluation.of(Predictions.of(teacherNet, test));
        Measurement teacher = new Measurement(teacherEval.accuracy(), Metrics.accuracy(teacherNet, val), teacherEval.ece(),
                1.0, 0.0, groups == null ? Map.of() : teacherEval.groupAccuracy(groups),
                teacherEval.calibration().bins(), List.of());
        log.printf(Locale.ROOT, "teacher: test %.4f, validation %.4f, ECE %.4f%n", teacher.test(), teacher.validation(),
                teacher.ece());
        Path work = Path.of("target", "experiments", name);
        Files.createDirectories(work);
        Path cacheFile = work.resolve("teacher-" + Teacher.of(teacherNet).fingerprint() + ".kdc");
        TeacherCache.write(Teacher.of(teacherNet), new InMemoryDataSetIterator(trainX, trainY, 500, null), cacheFile);
        CachedTeacher cached = TeacherCache.open(cacheFile, Teacher.of(teacherNet));

        // students: every run with every seed
        List<RunResult> runs = new ArrayList<>();
        for (Recipe.Run run : recipe.runs()) {
            String objective = run.objective().replace("${classCounts}", countsText);
            List<Measurement> measured = new ArrayList<>();
            for (long seed : seeds) {
                long t0 = System.nanoTime();
                DistillationResult r = Distiller.builder().teacher(cached).objective(objective).epochs(studentEpochs)
                        .seed(seed).data(source).evaluateOn(test).build()
                        .distill(Student.of(Models.mlpStudent(seed * 101 + 1, hidden)),
                                new InMemoryDataSetIterator(trainX, trainY, batch, seed * 101 + 2));
                Evaluation ev = r.evaluation().orElseThrow().student();
                Agreement agree = Agreement.of(teacherTest, Predictions.of(r.student(), test));
                Measurement m = new Measurement(ev.accuracy(), Metrics.accuracy(r.student(), val), ev.ece(), agree.top1(),
                        agree.meanKl(), groups == null ? Map.of() : ev.groupAccuracy(groups), ev.calibration().bins(),
                        r.report().epochs());
                measured.add(m);
                log.printf(Locale.ROOT, "%-22s seed %d: test %.4f, val %.4f, ECE %.4f, agree %.4f, KL %.4f %s (%.1f s, total %.0f s)%n",
                        run.label(), seed, m.test(), m.validation(), m.ece(), m.agreement(), m.kl(), m.groups(),
                        secondsSince(t0), secondsSince(started));
            }
            runs.add(new RunResult(run.label(), objective, measured));
        }
        String command = "ExperimentRunner " + String.join(" ", argv);
        String settings = String.format(Locale.ROOT, "seeds %s; teacher %d epochs (seed %d), students %d epochs; "
                        + "MLP 784-%d-10 student, CNN teacher; batch %d; Adam 1e-3; imbalance %s; validation %d per class",
                Arrays.toString(seeds), teacherEpochs, seeds[0], studentEpochs, hidden, batch,
                imbalance > 1 ? String.valueOf(imbalance) : "none (balanced)", perClassVal);
        Files.createDirectories(out);
        Path report = out.resolve(name + ".md");
        Result result = new Result(recipe, source, counts, groups, teacher, runs, report);
        List<String> images = plots ? Plots.write(result, out.resolve("img")) : List.of();
        ResultsReport.write(result, command, settings, secondsSince(started), images, report);
        log.println("wrote " + report + " (" + Math.round(secondsSince(started)) + " s)");
        return result;
    }

    /** The repository's docs/results when run from the repository root or from kd-examples. */
    private static String defaultOut() {
        return Files.isDirectory(Path.of("docs")) ? "docs/results"
                : Files.isDirectory(Path.of("../docs")) ? "../docs/results" : "results";
    }

    /** {@code perClass} examples of each class for validation (seeded), the rest for training; both ascending. */
    static int[][] validationSplit(int[] classes, int classCount, int perClass) {
        if (perClass < 1) {
            throw new IllegalArgumentException("validation-per-class must be >= 1, got " + perClass);
        }
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classCount; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < classes.length; i++) {
            byClass.get(classes[i]).add(i);
        }
        Random rnd = new Random(DATA_SEED);
        boolean[] isVal = new boolean[classes.length];
        for (int c = 0; c < classCount; c++) {
            List<Integer> pool = byClass.get(c);
            if (pool.size() <= perClass) {
                throw new IllegalArgumentException("class " + c + " has " + pool.size() + " training examples; the "
                        + "validation split takes " + perClass + " and would leave none for training");
            }
            Collections.shuffle(pool, rnd);
            for (int k = 0; k < perClass; k++) {
                isVal[pool.get(k)] = true;
            }
        }
        int[] valIdx = java.util.stream.IntStream.range(0, classes.length).filter(i -> isVal[i]).toArray();
        int[] trainIdx = java.util.stream.IntStream.range(0, classes.length).filter(i -> !isVal[i]).toArray();
        return new int[][] {valIdx, trainIdx};
    }

    private static int[] range(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
