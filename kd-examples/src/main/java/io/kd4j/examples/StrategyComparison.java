package io.kd4j.examples;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.feature.AuxiliaryClassifier;
import io.kd4j.core.feature.FeatureDistiller;
import io.kd4j.core.feature.Tap;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.strategy.BornAgain;
import io.kd4j.core.strategy.EmaTeacher;
import io.kd4j.core.strategy.MultiTeacher;
import io.kd4j.core.strategy.SampleWeights;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.experiment.Stats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue #8's strategies on real data: one small MLP student trained alone and with each strategy of
 * {@code io.kd4j.core.strategy} and deep-supervision self-distillation, over several seeds, on
 * Fashion-MNIST (the embedded 8,000 / 2,000 subset by default).
 *
 * <p>Teachers: three MLPs 784-256-256-10 (seeds 101, 102, 103, data orders 201..203), trained here
 * once (15 epochs by default; at 5 they were no better than the student) and shared by every seed.
 * Student: MLP 784-64-32-10, 5 epochs, Adam 1e-3, batch 64. Protocol: for a seed
 * {@code s} every method starts from the same initialisation (seed {@code s + 1}) and sees the same
 * batches (a fresh iterator shuffled with seed {@code s + 2}; the student alone is trained through the
 * same {@link Distiller} with the objective {@code CrossEntropy}, so its batches are exactly those of
 * the KD runs); test accuracy of the last epoch, nothing tuned on the test set.
 *
 * <p>Methods and their hyperparameters (the papers' or the catalogue's defaults, not tuned here):
 * <ul>
 *   <li>{@code kd}: teacher 1, {@value #KD} (mdistiller's KD defaults);</li>
 *   <li>{@code kd-ensemble}: the three teachers, {@code MultiTeacher} AVERAGE_PROBABILITIES at T = 4, same objective;</li>
 *   <li>{@code dkd}: teacher 1, {@value #DKD} (mdistiller's DKD: α 1, β 8, T 4; its 20 warm-up epochs of 240
 *       scaled to 1 epoch here);</li>
 *   <li>{@code dkd-ensemble}: the three teachers, AVERAGE_LOSSES (DKD evaluated per teacher and averaged);</li>
 *   <li>{@code ema}: {@code EmaTeacher} decay 0.99, {@value #EMA};</li>
 *   <li>{@code born-again}: generation 0 is the student trained alone; 2 generations with {@value #BAN}
 *       (Furlanello et al.: the teacher's outputs only, T = 1); each generation starts from the same
 *       initialisation and replays the same batches;</li>
 *   <li>{@code byot}: "Be Your Own Teacher": self-teacher, main objective {@code CrossEntropy}, an auxiliary
 *       classifier on hidden layer 0 with {@value #BYOT_AUX} and a FitNets hint 0 → 1 of weight 0.03 (the paper's
 *       α 0.3, λ 0.03, T 3);</li>
 *   <li>{@code kd-weighted}: {@code kd} with teacher-confidence sample weights (max probability at T = 1,
 *       normalised to mean 1 per batch).</li>
 * </ul>
 *
 * <p>Flags: {@code --data DIR|embedded}, {@code --seeds 1,2,3}, {@code --methods ...}, {@code --teacher-epochs},
 * {@code --student-epochs}, {@code --batch}, {@code --train-limit}, {@code --report FILE}.
 */
public final class StrategyComparison {
    /** The methods, in table order ({@code born-again} adds two rows, one per generation). */
    public static final List<String> METHODS = List.of("alone", "kd", "kd-ensemble", "dkd", "dkd-ensemble", "ema",
            "born-again", "byot", "kd-weighted");

    static final String KD = "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)";
    static final String DKD = "1.0*CrossEntropy + 1.0*Dkd(warmupEpochs=1.0)";
    static final String EMA = "0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1.0)";
    static final String BAN = "SoftTargetKl(temperature=1.0)";
    static final String BYOT_AUX = "0.7*CrossEntropy + 0.3*SoftTargetKl(temperature=3.0)";
    static final int[] TEACHER_HIDDEN = {256, 256};
    static final int[] STUDENT_HIDDEN = {64, 32};
    static final int TEACHERS = 3;

    /** One trained student: its table row, seed, test accuracy and wall time. */
    public record Run(String row, long seed, double accuracy, double seconds) {
    }

    /** Every run, the teachers' and their ensemble's test accuracy, and the table printed. */
    public record Result(List<Run> runs, List<Double> teacherAccuracies, double ensembleAccuracy, String table) {
    }

    private StrategyComparison() {
    }

    public static void main(String[] args) {
        Args.main(args, StrategyComparison::runExample);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args args = Args.parse(argv);
        ExampleData.Options opt = ExampleData.Options.parse(args, 15, 5);
        List<String> methods = ExampleData.parseList(args.text("methods", String.join(",", METHODS)), METHODS, "--methods");
        args.finish();
        PrintStream out = System.out;
        ExampleData.Split data = ExampleData.load(opt, out);

        // the teachers, trained once and shared by every seed
        List<MultiLayerNetwork> teachers = new ArrayList<>();
        List<Double> teacherAccuracies = new ArrayList<>();
        for (int m = 0; m < TEACHERS; m++) {
            MultiLayerNetwork t = Models.mlpClassifier(101 + m, 784, TEACHER_HIDDEN, 10);
            ExampleData.fitPlain(t, new InMemoryDataSetIterator(data.trainX(), data.trainY(), opt.batch(), 201L + m),
                    opt.teacherEpochs());
            teachers.add(t);
            teacherAccuracies.add(Metrics.accuracy(t, data.test(500)));
            out.printf(Locale.ROOT, "teacher %d (MLP 784-256-256-10, seed %d): test accuracy %.2f %%%n", m + 1, 101 + m,
                    100 * teacherAccuracies.get(m));
        }
        double ensembleAccuracy = ensembleAccuracy(teachers, data.testX(), data.testClasses());
        out.printf(Locale.ROOT, "ensemble of the %d teachers (mean probability): test accuracy %.2f %%%n", TEACHERS,
                100 * ensembleAccuracy);

        List<Run> runs = new ArrayList<>();
        Path work = ExampleData.workDirectory();
        try {
            Teachers fixed = new Teachers(teachers, data, work);
            long c0 = System.nanoTime();
            methods.stream().map(StrategyComparison::cacheOf).filter(k -> k != null).distinct().forEach(fixed::get);
            out.printf(Locale.ROOT, "teacher caches written (%.1f s)%n", (System.nanoTime() - c0) / 1e9);
            for (long seed : opt.seeds()) {
                runs.addAll(runSeed(seed, methods, fixed, data, opt, out));
            }
        } finally {
            ExampleData.deleteTree(work);
        }
        String table = table(runs, teacherAccuracies, ensembleAccuracy, data.source(), opt);
        out.println();
        out.print(table);
        ExampleData.writeReport(opt.report(), table, out);
        return new Result(runs, teacherAccuracies, ensembleAccuracy, table);
    }

    /**
     * The fixed teachers, each written once to a teacher cache on first use and read from it by every
     * seed (the EMA, born-again and self-teachers change during training and run online).
     */
    private static final class Teachers {
        private final List<MultiLayerNetwork> networks;
        private final ExampleData.Split data;
        private final Path work;
        private final Map<String, Teacher> cached = new LinkedHashMap<>();

        Teachers(List<MultiLayerNetwork> networks, ExampleData.Split data, Path work) {
            this.networks = networks;
            this.data = data;
            this.work = work;
        }

        /** Teacher 1, or the three teachers aggregated ({@code AVERAGE_PROBABILITIES} or {@code AVERAGE_LOSSES}). */
        Teacher get(String which) {
            return cached.computeIfAbsent(which, k -> {
                Teacher t = switch (k) {
                    case "first" -> Teacher.of(networks.get(0));
                    case "probabilities" -> ensemble(networks, MultiTeacher.Aggregation.AVERAGE_PROBABILITIES);
                    case "losses" -> ensemble(networks, MultiTeacher.Aggregation.AVERAGE_LOSSES);
                    default -> throw new IllegalArgumentException(k);
                };
                try {
                    return ExampleData.cached(k, t, data.trainX(), data.trainY(), work);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    /** The cached teacher a method reads, or null. */
    private static String cacheOf(String method) {
        return switch (method) {
            case "alone", "kd", "dkd", "kd-weighted" -> "first";
            case "kd-ensemble" -> "probabilities";
            case "dkd-ensemble" -> "losses";
            default -> null;
        };
    }

    private static List<Run> runSeed(long seed, List<String> methods, Teachers teachers, ExampleData.Split data,
                                     ExampleData.Options opt, PrintStream out) {
        List<Run> runs = new ArrayList<>();
        MultiLayerNetwork alone = null;
        for (String method : methods) {
            long t0 = System.nanoTime();
            if (method.equals("born-again")) {
                if (alone == null) {
                    alone = trainAlone(seed, teachers, data, opt);
                }
                List<Model> generations = bornAgain(seed, alone, data, opt);
                double seconds = (System.nanoTime() - t0) / 1e9 / generations.size();
                for (int g = 0; g < generations.size(); g++) {
                    runs.add(record(out, "born-again-" + (g + 1), seed, generations.get(g), data, seconds));
                }
                continue;
            }
            Model student;
            if (method.equals("alone")) {
                alone = trainAlone(seed, teachers, data, opt);
                student = alone;
            } else {
                student = train(method, seed, teachers, data, opt);
            }
            runs.add(record(out, method, seed, student, data, (System.nanoTime() - t0) / 1e9));
        }
        return runs;
    }

    private static Run record(PrintStream out, String row, long seed, Model student, ExampleData.Split data,
                              double seconds) {
        double acc = Metrics.accuracy(student, data.test(500));
        out.printf(Locale.ROOT, "seed %d, %s: test accuracy %.2f %% (%.1f s)%n", seed, row, 100 * acc, seconds);
        return new Run(row, seed, acc, seconds);
    }

    static MultiLayerNetwork student(long seed) {
        return Models.mlpClassifier(seed + 1, 784, STUDENT_HIDDEN, 10);
    }

    private static InMemoryDataSetIterator trainIterator(long seed, ExampleData.Split data, ExampleData.Options opt) {
        return new InMemoryDataSetIterator(data.trainX(), data.trainY(), opt.batch(), seed + 2);
    }

    private static Distiller.Builder distiller(long seed, String objective, Teacher teacher, ExampleData.Split data,
                                               ExampleData.Options opt) {
        return Distiller.builder().teacher(teacher).objective(objective).epochs(opt.studentEpochs()).seed(seed)
                .data(data.source());
    }

    /** The student on the hard labels only, through the same distiller (the teacher block is not read). */
    private static MultiLayerNetwork trainAlone(long seed, Teachers teachers, ExampleData.Split data,
                                                ExampleData.Options opt) {
        return (MultiLayerNetwork) distiller(seed, "CrossEntropy", teachers.get("first"), data, opt).build()
                .distill(Student.of(student(seed)), trainIterator(seed, data, opt)).student();
    }

    private static Model train(String method, long seed, Teachers teachers, ExampleData.Split data,
                               ExampleData.Options opt) {
        MultiLayerNetwork net = student(seed);
        InMemoryDataSetIterator train = trainIterator(seed, data, opt);
        Teacher first = teachers.get("first");
        Distiller.Builder b = switch (method) {
            case "kd" -> distiller(seed, KD, first, data, opt);
            case "kd-ensemble" -> distiller(seed, KD, teachers.get("probabilities"), data, opt);
            case "dkd" -> distiller(seed, DKD, first, data, opt);
            case "dkd-ensemble" -> distiller(seed, DKD, teachers.get("losses"), data, opt);
            case "kd-weighted" -> distiller(seed, KD, first, data, opt).sampleWeights(SampleWeights
                    .teacherConfidence(SampleWeights.Confidence.MAX_PROBABILITY, 1.0).normalizedToMeanOne());
            case "ema" -> {
                EmaTeacher ema = EmaTeacher.of(net, 0.99);
                yield distiller(seed, EMA, ema, data, opt).listener(ema.updater());
            }
            case "byot" -> null;
            default -> throw new IllegalArgumentException("unknown method " + method);
        };
        if (b == null) {
            return FeatureDistiller.builder().selfTeacher().objective("CrossEntropy")
                    .auxiliaryClassifier(AuxiliaryClassifier.of("0", BYOT_AUX))
                    .tap(Tap.of("0", "1", 0.03, "FitNetsHint"))
                    .epochs(opt.studentEpochs()).seed(seed).data(data.source()).build()
                    .distill(Student.of(net), train).student();
        }
        return b.build().distill(Student.of(net), train).student();
    }

    /** Two born-again generations from the student trained alone; each replays the same batches. */
    private static List<Model> bornAgain(long seed, MultiLayerNetwork alone, ExampleData.Split data,
                                         ExampleData.Options opt) {
        InMemoryDataSetIterator train = trainIterator(seed, data, opt);
        BornAgain.Result r = BornAgain.of(teacher -> {
            train.restart(); // every generation sees the batches of the other methods
            return distiller(seed, BAN, teacher, data, opt).build();
        }, g -> Student.of(student(seed))).run(Teacher.of(alone), 2, train);
        return r.generations().stream().map(g -> g.student()).toList();
    }

    private static MultiTeacher ensemble(List<MultiLayerNetwork> teachers, MultiTeacher.Aggregation aggregation) {
        MultiTeacher.Builder b = MultiTeacher.builder().aggregation(aggregation).temperature(4.0);
        teachers.forEach(t -> b.add(Teacher.of(t)));
        return b.build();
    }

    /** Accuracy of the mean of the teachers' softmax outputs. */
    static double ensembleAccuracy(List<MultiLayerNetwork> teachers, INDArray testX, int[] testClasses) {
        INDArray sum = null;
        for (MultiLayerNetwork t : teachers) {
            INDArray p = t.output(testX, false);
            sum = sum == null ? p.dup() : sum.addi(p);
        }
        INDArray predicted = sum.argMax(1);
        int correct = 0;
        for (int i = 0; i < testClasses.length; i++) {
            correct += predicted.getInt(i) == testClasses[i] ? 1 : 0;
        }
        return correct / (double) testClasses.length;
    }

    static String label(String row) {
        return switch (row) {
            case "alone" -> "student alone (hard labels)";
            case "kd" -> "KD, teacher 1";
            case "kd-ensemble" -> "KD, 3 teachers, average probabilities";
            case "dkd" -> "DKD, teacher 1";
            case "dkd-ensemble" -> "DKD, 3 teachers, average losses";
            case "ema" -> "EMA mean teacher (decay 0.99)";
            case "born-again-1" -> "born-again, generation 1";
            case "born-again-2" -> "born-again, generation 2";
            case "byot" -> "self-distillation (BYOT: aux. classifier + hint)";
            case "kd-weighted" -> "KD, teacher 1, confidence sample weights";
            default -> row;
        };
    }

    static String table(List<Run> runs, List<Double> teacherAccuracies, double ensembleAccuracy, String source,
                        ExampleData.Options opt) {
        Map<String, List<Run>> byRow = new LinkedHashMap<>();
        runs.forEach(r -> byRow.computeIfAbsent(r.row(), k -> new ArrayList<>()).add(r));
        List<Run> alone = byRow.get("alone");
        StringBuilder b = new StringBuilder("| method |");
        opt.seeds().forEach(s -> b.append(" seed ").append(s).append(" |"));
        b.append(" mean ± std | − alone (mean) | wall time per run (s) |\n|---|");
        opt.seeds().forEach(s -> b.append("---|"));
        b.append("---|---|---|\n");
        for (Map.Entry<String, List<Run>> e : byRow.entrySet()) {
            List<Run> rs = e.getValue();
            b.append("| ").append(label(e.getKey())).append(" |");
            rs.forEach(r -> b.append(String.format(Locale.ROOT, " %.2f |", 100 * r.accuracy())));
            b.append(' ').append(Stats.percent(rs, Run::accuracy)).append(" |");
            b.append(alone == null || e.getKey().equals("alone") ? " |" : String.format(Locale.ROOT, " %+.2f |",
                    100 * (Stats.mean(rs, Run::accuracy) - Stats.mean(alone, Run::accuracy))));
            b.append(String.format(Locale.ROOT, " %.1f |%n", Stats.mean(rs, Run::seconds)));
        }
        StringBuilder t = new StringBuilder();
        for (int m = 0; m < teacherAccuracies.size(); m++) {
            t.append(String.format(Locale.ROOT, "%s%.2f %%", m == 0 ? "" : ", ", 100 * teacherAccuracies.get(m)));
        }
        b.append(String.format(Locale.ROOT, "%nteachers (MLP 784-256-256-10, %d epochs): %s; their ensemble (mean "
                        + "probability) %.2f %%. data: %s; student MLP 784-64-32-10, %d epochs, batch %d, Adam 1e-3, "
                        + "initialisation seed+1 and batches seed+2 shared by all methods of a seed; test accuracy (%%) of "
                        + "the last epoch, nothing tuned on the test set; std is the sample standard deviation over "
                        + "seeds.%n", opt.teacherEpochs(), t, 100 * ensembleAccuracy, source, opt.studentEpochs(),
                opt.batch()));
        return b.toString();
    }
}
