package io.kd4j.examples;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.examples.experiment.Stats;
import io.kd4j.examples.tasks.GaussianEnsembleTeacher;
import io.kd4j.examples.tasks.PairScoreTeacher;
import io.kd4j.examples.tasks.RankingLists;
import io.kd4j.examples.tasks.TaskMetrics;
import io.kd4j.examples.tasks.TaskTargets;
import io.kd4j.examples.tasks.TaskTraining;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Issue #8's tasks beyond single-label classification on Fashion-MNIST (the embedded 8,000 / 2,000
 * subset by default): multi-label, regression, Gaussian (uncertainty) and ranking distillation, a
 * student alone against the same student distilled, over several seeds. How each task is derived from
 * the images is in {@link TaskTargets} and {@link RankingLists}; docs/results/tasks-and-strategies.md
 * has the tables.
 *
 * <ul>
 *   <li>{@code multilabel}: six class-level attributes ({@link TaskTargets#ATTRIBUTES}); teacher MLP
 *       784-256-256-6 (sigmoid, binary cross-entropy); student MLP 784-32-6 alone (binary cross-entropy on
 *       the attributes) or distilled with {@code MultiLabelKd} (T = 1) on the teacher's logits only;
 *       test mean average precision and macro F1.</li>
 *   <li>{@code regression}: the fraction of bright pixels of the top half ({@link TaskTargets#brightTopHalf});
 *       teacher MLP 784-256-256-1 (MSE); student MLP 784-32-1 alone (MSE on the target) or with
 *       {@code RegressionKd} on the teacher's outputs only; test RMSE.</li>
 *   <li>{@code gaussian}: the same target; five mean-variance members MLP 784-64-64-2 trained with
 *       {@code GaussianNll(full=true)} on the target (a deep ensemble); the teacher block is the ensemble's
 *       mean and variance ({@link GaussianEnsembleTeacher}); student MLP 784-32-2 (mean, log-variance)
 *       alone (the same Gaussian NLL on the target) or with {@code GaussianNll(full=true)} or {@code GaussianKl}
 *       towards the ensemble; test RMSE, Gaussian NLL of the target and coverage of ±1σ and ±2σ.</li>
 *   <li>{@code ranking}: 14×14 (2×2-pooled) images; lists of 8 candidates per query, one of the query's
 *       class ({@link RankingLists}); teacher {@link PairScoreTeacher} over a classifier MLP 196-256-256-10;
 *       student a shared 1×1-conv pair scorer 392-32-1 ({@link Models#pairScorer}) alone (softmax cross-entropy
 *       on the relevant candidate) or with {@code MarginMse} or {@code ListwiseKl} (T = 1) on the teacher's
 *       scores only, read from a {@code TeacherCache}; test MRR and precision at 1.</li>
 * </ul>
 *
 * <p>Protocol: teachers are trained once; for seed {@code s} the compared students start from the same
 * initialisation (seed {@code s + 1}) and see the same batches (an iterator shuffled with seed
 * {@code s + 2}; the distilled ones through {@code TeacherTargetIterator} and the student's training copy
 * with the {@code DistillationLossFunction}, DL4J's own fit, epoch by epoch like the students alone:
 * {@link TaskTraining#distil});
 * metrics of the last epoch on the test images, nothing tuned on them. The losses of the distilled
 * students read the teacher only: their packed hard-label block is zero (the catalogue has no multi-label
 * or real-valued hard-label term to mix in).
 *
 * <p>Flags: {@code --data DIR|embedded}, {@code --seeds 1,2,3}, {@code --tasks multilabel,regression,gaussian,ranking},
 * {@code --teacher-epochs}, {@code --student-epochs}, {@code --batch}, {@code --train-limit},
 * {@code --ranking-queries N} (training lists per seed, default 4000, at most one per training image),
 * {@code --report FILE}.
 */
public final class TaskDistillation {
    /** The tasks, in table order. */
    public static final List<String> TASKS = List.of("multilabel", "regression", "gaussian", "ranking");

    static final int[] TEACHER_HIDDEN = {256, 256};
    static final int[] MEMBER_HIDDEN = {64, 64};
    static final int[] STUDENT_HIDDEN = {32};
    static final int MEMBERS = 5;
    static final int CANDIDATES = 8;
    static final int SCORER_HIDDEN = 32;
    static final String GAUSSIAN_NLL = "GaussianNll(full=true)";

    /**
     * A method's test metrics at one seed.
     *
     * @param seed the student seed, or -1 for a teacher (trained once)
     */
    public record Row(String task, String method, long seed, Map<String, Double> metrics, double seconds) {
    }

    /** Every row and the tables printed. */
    public record Result(List<Row> rows, String table) {
        /** The rows of one task and method. */
        public List<Row> rows(String task, String method) {
            return rows.stream().filter(r -> r.task().equals(task) && r.method().equals(method)).toList();
        }
    }

    private TaskDistillation() {
    }

    public static void main(String[] args) {
        Args.main(args, TaskDistillation::runExample);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        ExampleData.Options opt = ExampleData.Options.parse(args, 5, 5);
        List<String> tasks = ExampleData.parseList(args.text("tasks", String.join(",", TASKS)), TASKS, "--tasks");
        int queries = args.integer("ranking-queries", 4000);
        args.finish();
        if (queries < 1) {
            throw new IllegalArgumentException("--ranking-queries must be >= 1, got " + queries);
        }
        PrintStream out = System.out;
        ExampleData.Split data = ExampleData.load(opt, out);
        List<Row> rows = new ArrayList<>();
        StringBuilder tables = new StringBuilder();
        Path work = ExampleData.workDirectory();
        try {
            run(tasks, queries, data, opt, rows, tables, work, out);
        } finally {
            ExampleData.deleteTree(work);
        }
        tables.append(String.format(Locale.ROOT, "data: %s; students %d epochs, teachers %d epochs, batch %d, Adam 1e-3; "
                        + "seeds %s (initialisation seed+1, batches seed+2, shared by the methods of a seed); metrics of the "
                        + "last epoch on the test set, nothing tuned on it; ± is the sample standard deviation over seeds; "
                        + "the distilled students read the teachers' outputs from teacher caches written once (the time to "
                        + "write them is in the teacher rows; for ranking, per seed, split over the two distilled rows).%n",
                data.source(), opt.studentEpochs(), opt.teacherEpochs(), opt.batch(), opt.seeds()));
        String table = tables.toString();
        out.println();
        out.print(table);
        ExampleData.writeReport(opt.report(), table, out);
        return new Result(rows, table);
    }

    private static void run(List<String> tasks, int queries, ExampleData.Split data, ExampleData.Options opt,
                            List<Row> rows, StringBuilder tables, Path work, PrintStream out) throws IOException {
        if (tasks.contains("multilabel")) {
            tables.append(multiLabel(data, opt, rows, work, out));
        }
        double[] trainTarget = TaskTargets.brightTopHalf(data.trainX());
        double[] testTarget = TaskTargets.brightTopHalf(data.testX());
        if (tasks.contains("regression")) {
            tables.append(regression(data, trainTarget, testTarget, opt, rows, work, out));
        }
        if (tasks.contains("gaussian")) {
            long t0 = System.nanoTime();
            GaussianEnsembleTeacher ensemble = ensemble(data.trainX(), trainTarget, opt);
            double ensembleSeconds = secondsSince(t0);
            out.printf(Locale.ROOT, "Gaussian ensemble of %d members trained (%.1f s)%n", MEMBERS, ensembleSeconds);
            tables.append(gaussian(data, trainTarget, testTarget, ensemble, ensembleSeconds, opt, rows, work, out));
        }
        if (tasks.contains("ranking")) {
            tables.append(ranking(data, opt, queries, rows, work, out));
        }
    }

    // ---- multi-label ----

    private static String multiLabel(ExampleData.Split data, ExampleData.Options opt, List<Row> rows, Path work,
                                     PrintStream out) throws IOException {
        int attributes = TaskTargets.ATTRIBUTES.size();
        boolean[][] testLabels = TaskTargets.attributes(data.testClasses());
        INDArray trainY = TaskTargets.matrix(TaskTargets.attributes(data.trainClasses()));
        INDArray noLabels = Nd4j.zeros(DataType.FLOAT, trainY.size(0), attributes);
        long t0 = System.nanoTime();
        MultiLayerNetwork teacher = Models.mlp(401, 784, TEACHER_HIDDEN, attributes, Activation.SIGMOID,
                LossFunction.XENT.getILossFunction());
        ExampleData.fitPlain(teacher, new InMemoryDataSetIterator(data.trainX(), trainY, opt.batch(), 501L),
                opt.teacherEpochs());
        Teacher cached = ExampleData.cached("multilabel", Teacher.of(teacher), data.trainX(), noLabels, work);
        rows.add(print(out, multiLabelRow("teacher (MLP 784-256-256-6)", -1, teacher, data, testLabels, secondsSince(t0))));
        for (long seed : opt.seeds()) {
            t0 = System.nanoTime();
            MultiLayerNetwork alone = multiLabelStudent(seed);
            ExampleData.fitPlain(alone, new InMemoryDataSetIterator(data.trainX(), trainY, opt.batch(), seed + 2),
                    opt.studentEpochs());
            rows.add(print(out, multiLabelRow("student alone (binary cross-entropy)", seed, alone, data, testLabels,
                    secondsSince(t0))));
            t0 = System.nanoTime();
            MultiLayerNetwork kd = TaskTraining.distil(multiLabelStudent(seed), cached, "MultiLabelKd",
                    new InMemoryDataSetIterator(data.trainX(), noLabels, opt.batch(), seed + 2), opt.studentEpochs());
            rows.add(print(out, multiLabelRow("MultiLabelKd (T = 1)", seed, kd, data, testLabels, secondsSince(t0))));
        }
        return table("Multi-label: six class-level attributes, student MLP 784-32-6", "multilabel", rows,
                List.of("mAP", "macro F1"));
    }

    private static MultiLayerNetwork multiLabelStudent(long seed) {
        return Models.mlp(seed + 1, 784, STUDENT_HIDDEN, TaskTargets.ATTRIBUTES.size(), Activation.SIGMOID,
                LossFunction.XENT.getILossFunction());
    }

    private static Row multiLabelRow(String method, long seed, MultiLayerNetwork net, ExampleData.Split data,
                                     boolean[][] testLabels, double seconds) {
        double[][] p = TaskTargets.rows(net.output(data.testX(), false));
        return new Row("multilabel", method, seed, metrics("mAP", TaskMetrics.meanAveragePrecision(p, testLabels),
                "macro F1", TaskMetrics.macroF1(p, testLabels)), seconds);
    }

    // ---- regression and Gaussian ----

    /** Five mean-variance members trained on the target with the Gaussian NLL (v = 0): a deep ensemble. */
    private static GaussianEnsembleTeacher ensemble(INDArray trainX, double[] target, ExampleData.Options opt) {
        List<Teacher> members = new ArrayList<>();
        for (int m = 0; m < MEMBERS; m++) {
            MultiLayerNetwork net = Models.mlp(601 + m, 784, MEMBER_HIDDEN, 2, Activation.IDENTITY,
                    LossFunction.MSE.getILossFunction());
            members.add(Teacher.of(TaskTraining.fitGaussianOnTarget(net, trainX, target, opt.batch(), 701L + m, opt.teacherEpochs())));
        }
        return GaussianEnsembleTeacher.of(members);
    }

    private static String regression(ExampleData.Split data, double[] trainTarget, double[] testTarget,
                                     ExampleData.Options opt, List<Row> rows, Path work, PrintStream out)
            throws IOException {
        long t0 = System.nanoTime();
        INDArray y = TaskTargets.column(trainTarget);
        INDArray noLabels = Nd4j.zeros(DataType.FLOAT, trainTarget.length, 1);
        MultiLayerNetwork teacherNet = Models.mlp(451, 784, TEACHER_HIDDEN, 1, Activation.IDENTITY,
                LossFunction.MSE.getILossFunction());
        ExampleData.fitPlain(teacherNet, new InMemoryDataSetIterator(data.trainX(), y, opt.batch(), 551L),
                opt.teacherEpochs());
        Teacher teacher = ExampleData.cached("regression", Teacher.of(teacherNet), data.trainX(), noLabels, work);
        rows.add(print(out, regressionRow("teacher (MLP 784-256-256-1, MSE)", -1, teacherNet, data, testTarget,
                secondsSince(t0))));
        for (long seed : opt.seeds()) {
            t0 = System.nanoTime();
            MultiLayerNetwork alone = regressionStudent(seed, 1);
            ExampleData.fitPlain(alone, new InMemoryDataSetIterator(data.trainX(), y, opt.batch(), seed + 2),
                    opt.studentEpochs());
            rows.add(print(out, regressionRow("student alone (MSE on the target)", seed, alone, data, testTarget,
                    secondsSince(t0))));
            t0 = System.nanoTime();
            MultiLayerNetwork kd = TaskTraining.distil(regressionStudent(seed, 1), teacher, "RegressionKd",
                    new InMemoryDataSetIterator(data.trainX(), noLabels, opt.batch(), seed + 2), opt.studentEpochs());
            rows.add(print(out, regressionRow("RegressionKd", seed, kd, data, testTarget, secondsSince(t0))));
        }
        return table("Regression: fraction of bright pixels in the top half, student MLP 784-32-1", "regression", rows,
                List.of("RMSE"));
    }

    private static MultiLayerNetwork regressionStudent(long seed, int outputs) {
        return Models.mlp(seed + 1, 784, STUDENT_HIDDEN, outputs, Activation.IDENTITY, LossFunction.MSE.getILossFunction());
    }

    private static Row regressionRow(String method, long seed, MultiLayerNetwork net, ExampleData.Split data,
                                     double[] testTarget, double seconds) {
        double[] predicted = column(net.output(data.testX(), false), 0);
        return new Row("regression", method, seed, metrics("RMSE", TaskMetrics.rmse(predicted, testTarget)), seconds);
    }

    private static String gaussian(ExampleData.Split data, double[] trainTarget, double[] testTarget,
                                   GaussianEnsembleTeacher ensemble, double ensembleSeconds, ExampleData.Options opt,
                                   List<Row> rows, Path work, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        INDArray noLabels = Nd4j.zeros(DataType.FLOAT, trainTarget.length, 2);
        Teacher cached = ExampleData.cached("gaussian", ensemble, data.trainX(), noLabels, work);
        INDArray block = ensemble.logits(new TeacherBatch(data.testX(), null, 0));
        double[] variance = column(block, 1);
        double[] logVariance = new double[variance.length];
        for (int i = 0; i < variance.length; i++) {
            logVariance[i] = Math.log(variance[i]);
        }
        rows.add(print(out, gaussianRow("teacher (5-member ensemble: mean, variance)", -1, column(block, 0), logVariance,
                testTarget, ensembleSeconds + secondsSince(t0))));
        for (long seed : opt.seeds()) {
            t0 = System.nanoTime();
            MultiLayerNetwork alone = TaskTraining.fitGaussianOnTarget(regressionStudent(seed, 2), data.trainX(), trainTarget,
                    opt.batch(), seed + 2, opt.studentEpochs());
            rows.add(print(out, gaussianRow("student alone (Gaussian NLL on the target)", seed, alone, data, testTarget,
                    secondsSince(t0))));
            for (String objective : List.of(GAUSSIAN_NLL, "GaussianKl")) {
                t0 = System.nanoTime();
                MultiLayerNetwork kd = TaskTraining.distil(regressionStudent(seed, 2), cached, objective,
                        new InMemoryDataSetIterator(data.trainX(), noLabels, opt.batch(), seed + 2), opt.studentEpochs());
                rows.add(print(out, gaussianRow(objective + " to the ensemble", seed, kd, data, testTarget,
                        secondsSince(t0))));
            }
        }
        return table("Gaussian (uncertainty): the same target, student MLP 784-32-2 (mean, log-variance)", "gaussian",
                rows, List.of("RMSE", "NLL", "within ±1σ", "within ±2σ"));
    }

    private static Row gaussianRow(String method, long seed, MultiLayerNetwork net, ExampleData.Split data,
                                   double[] testTarget, double seconds) {
        INDArray out = net.output(data.testX(), false);
        return gaussianRow(method, seed, column(out, 0), column(out, 1), testTarget, seconds);
    }

    private static Row gaussianRow(String method, long seed, double[] mean, double[] logVariance, double[] target,
                                   double seconds) {
        return new Row("gaussian", method, seed, metrics("RMSE", TaskMetrics.rmse(mean, target),
                "NLL", TaskMetrics.gaussianNll(mean, logVariance, target),
                "within ±1σ", TaskMetrics.coverage(mean, logVariance, target, 1),
                "within ±2σ", TaskMetrics.coverage(mean, logVariance, target, 2)), seconds);
    }

    // ---- ranking ----

    private static String ranking(ExampleData.Split data, ExampleData.Options opt, int queries, List<Row> rows,
                                  Path work, PrintStream out) throws IOException {
        INDArray trainImages = TaskTargets.pool2(data.trainX());
        INDArray testImages = TaskTargets.pool2(data.testX());
        long t0 = System.nanoTime();
        MultiLayerNetwork classifier = Models.mlpClassifier(801, 196, TEACHER_HIDDEN, 10);
        ExampleData.fitPlain(classifier, new InMemoryDataSetIterator(trainImages, data.trainY(), opt.batch(), 901L),
                opt.teacherEpochs());
        PairScoreTeacher teacher = new PairScoreTeacher(Teacher.of(classifier), 196);
        RankingLists test = RankingLists.build(testImages, data.testClasses(), data.testClasses().length, CANDIDATES, 2024);
        rows.add(print(out, rankingRow("teacher (log same-class probability, classifier MLP 196-256-256-10)", -1,
                TaskTargets.rows(teacher.logits(new TeacherBatch(test.features(), null, 0))), secondsSince(t0))));
        int n = Math.min(queries, data.trainClasses().length);
        for (long seed : opt.seeds()) {
            RankingLists train = RankingLists.build(trainImages, data.trainClasses(), n, CANDIDATES, seed + 3);
            t0 = System.nanoTime();
            MultiLayerNetwork alone = Models.pairScorer(seed + 1, 392, CANDIDATES, SCORER_HIDDEN);
            ExampleData.fitPlain(alone, new InMemoryDataSetIterator(train.features(), train.labels(), opt.batch(), seed + 2),
                    opt.studentEpochs());
            rows.add(print(out, rankingRow("student alone (softmax cross-entropy on the relevant candidate)", seed,
                    scores(alone, test), secondsSince(t0))));
            // the teacher scores this seed's training lists once, into a cache both distilled students read
            long c0 = System.nanoTime();
            Teacher cached = ExampleData.cached("ranking-" + seed, teacher, train.features(), train.labels(), work);
            double cacheSeconds = secondsSince(c0);
            for (String objective : List.of("MarginMse", "ListwiseKl")) {
                t0 = System.nanoTime();
                MultiLayerNetwork kd = TaskTraining.distil(Models.pairScorer(seed + 1, 392, CANDIDATES, SCORER_HIDDEN), cached,
                        objective, new InMemoryDataSetIterator(train.features(), train.labels(), opt.batch(), seed + 2),
                        opt.studentEpochs());
                rows.add(print(out, rankingRow(objective.equals("ListwiseKl") ? "ListwiseKl (T = 1)" : objective, seed,
                        scores(kd, test), secondsSince(t0) + cacheSeconds / 2)));
            }
        }
        return table(String.format(Locale.ROOT, "Ranking: %d training lists of %d candidates per seed, %d test lists, "
                + "student pair scorer 392-32-1 (1×1 convolutions)", n, CANDIDATES, test.size()), "ranking", rows,
                List.of("MRR", "P@1"));
    }

    private static double[][] scores(MultiLayerNetwork scorer, RankingLists lists) {
        return TaskTargets.rows(scorer.output(lists.features(), false));
    }

    private static Row rankingRow(String method, long seed, double[][] scores, double seconds) {
        return new Row("ranking", method, seed, metrics("MRR", TaskMetrics.meanReciprocalRank(scores),
                "P@1", TaskMetrics.precisionAt1(scores)), seconds);
    }

    // ---- plumbing ----

    private static double[] column(INDArray m, int c) {
        return m.getColumn(c).castTo(DataType.DOUBLE).dup().data().asDouble();
    }

    private static Map<String, Double> metrics(Object... nameValue) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put((String) nameValue[i], (Double) nameValue[i + 1]);
        }
        return m;
    }

    private static Row print(PrintStream out, Row r) {
        StringBuilder b = new StringBuilder(r.task() + ", " + r.method() + (r.seed() < 0 ? "" : ", seed " + r.seed()) + ":");
        r.metrics().forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %.4f", k, v)));
        out.println(b.append(String.format(Locale.ROOT, " (%.1f s)", r.seconds())));
        return r;
    }

    /** A task's markdown table: one row per method, mean ± std over seeds (a teacher's single value as is). */
    static String table(String title, String task, List<Row> rows, List<String> metricNames) {
        Map<String, List<Row>> byMethod = new LinkedHashMap<>();
        rows.stream().filter(r -> r.task().equals(task))
                .forEach(r -> byMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r));
        StringBuilder b = new StringBuilder("**").append(title).append("**\n\n| method |");
        metricNames.forEach(m -> b.append(' ').append(m).append(" |"));
        b.append(" wall time per run (s) |\n|---|");
        metricNames.forEach(m -> b.append("---|"));
        b.append("---|\n");
        for (Map.Entry<String, List<Row>> e : byMethod.entrySet()) {
            List<Row> rs = e.getValue();
            b.append("| ").append(e.getKey()).append(" |");
            for (String m : metricNames) {
                b.append(rs.get(0).seed() < 0 ? String.format(Locale.ROOT, " %.4f |", rs.get(0).metrics().get(m))
                        : String.format(Locale.ROOT, " %.4f ± %.4f |", Stats.mean(rs, r -> r.metrics().get(m)),
                        Stats.std(rs, r -> r.metrics().get(m))));
            }
            b.append(String.format(Locale.ROOT, " %.1f |%n", Stats.mean(rs, Row::seconds)));
        }
        return b.append('\n').toString();
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
