package io.kd4j.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.checkpoint.NetworkState;
import io.kd4j.core.data.FeatureHash;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.Models;
import io.kd4j.examples.data.FashionMnist;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Where the time of a cached-teacher epoch goes (issue #6: cached epoch vs hard-label epoch of the same
 * student, the MLP 784-128-10 of {@link TrainingProbe}, batch 128, 0.1 CE + 0.9 KD at T = 4). Prints the
 * process CPU seconds per epoch of each per-batch piece, run on its own, and of whole epochs: hard
 * labels ({@code fit}) and cached KD ({@code Distiller}). CPU time, summed over all threads, is what the
 * pieces cost however busy the machine is; wall times are printed for the whole epochs too. Medians of
 * {@code reps} repetitions. Uses public API only, so it runs against older builds of kd4j as well.
 *
 * <p>Usage: {@code OverheadProbe [examples=12000] [reps=5]}.
 */
public final class OverheadProbe {
    private static final String HARD = "hard-label epoch (fit)";
    private static final String ITERATOR = "  data iterator alone";
    private static final String ATTACH = "  attach cached outputs (hash, read, pack)";
    private static final String CHECKS = "  finiteness checks (features, teacher, gradient, params)";
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private OverheadProbe() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 12000;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        FashionMnist.Data data = FashionMnist.load(null);
        INDArray x = data.train().features().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray y = data.train().labels().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        System.out.println("load average " + PerformanceSuite.loadAverage());
        Teacher teacher = Teacher.of(Models.mlpStudent(2, 1200));
        Path dir = Files.createTempDirectory("kd4j-overhead");
        Path file = dir.resolve("teacher.cache");
        TeacherCache.write(teacher, it(x, y), file);
        Teacher cached = TeacherCache.open(file, teacher);
        String formula = "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)";
        TargetLayout layout = TargetLayout.dense(10);
        DistillationLossFunction loss = DistillationLossFunction.of(Objective.parse(formula), layout);
        List<DataSet> packed = new ArrayList<>();
        TeacherTargetIterator attach = new TeacherTargetIterator(it(x, y), cached, layout);
        while (attach.hasNext()) {
            packed.add(attach.next());
        }
        INDArray preOutput = Nd4j.randn(packed.get(0).getLabels().dataType(), 128, 10);
        MultiLayerNetwork student = Models.mlpStudent(1, 128);
        INDArray packedLabels = Nd4j.vstack(packed.stream().map(DataSet::getLabels).toArray(INDArray[]::new));
        TrainingModel prepacked = Student.of(Models.mlpStudent(1, 128)).trainingModel(loss);
        TrainingModel manual = Student.of(Models.mlpStudent(1, 128))
                .trainingModel(DistillationLossFunction.of(Objective.parse(formula), layout));
        Map<String, double[]> cpu = new LinkedHashMap<>();
        Map<String, double[]> wall = new LinkedHashMap<>();
        for (int r = 0; r < reps; r++) {
            measure(cpu, wall, r, reps, HARD, () -> student.fit(it(x, y)));
            EpochClock clock = new EpochClock();
            Distiller.builder().teacher(cached).objective(formula).epochs(2).listener(clock).build()
                    .distill(Student.of(Models.mlpStudent(1, 128)), it(x, y));
            cpu.computeIfAbsent("cached KD epoch (Distiller, 2nd of 2 epochs)", k -> new double[reps])[r] = clock.cpu;
            wall.computeIfAbsent("cached KD epoch (Distiller, 2nd of 2 epochs)", k -> new double[reps])[r] = clock.wall;
            measure(cpu, wall, r, reps, "student fit on pre-packed labels (DL4J + kd4j loss only)",
                    () -> prepacked.fit(new InMemoryDataSetIterator(x, packedLabels, 128, null)));
            measure(cpu, wall, r, reps, "student fit on TeacherTargetIterator (no Distiller)", () -> {
                TeacherTargetIterator i = new TeacherTargetIterator(it(x, y), cached, layout);
                manual.fit(i);
            });
            measure(cpu, wall, r, reps, ITERATOR, () -> {
                InMemoryDataSetIterator i = it(x, y);
                while (i.hasNext()) {
                    i.next();
                }
            });
            measure(cpu, wall, r, reps, "  feature hashes", () -> {
                InMemoryDataSetIterator i = it(x, y);
                while (i.hasNext()) {
                    FeatureHash.perExample(i.next().getFeatures());
                }
            });
            measure(cpu, wall, r, reps, ATTACH, () -> {
                TeacherTargetIterator i = new TeacherTargetIterator(it(x, y), cached, layout);
                while (i.hasNext()) {
                    i.next();
                }
            });
            measure(cpu, wall, r, reps, CHECKS, () -> {
                for (DataSet d : packed) {
                    NetworkState.isFinite(d.getFeatures());
                    NetworkState.isFinite(d.getLabels());
                    NetworkState.isFinite(student.params());
                    NetworkState.isFinite(student.params());
                }
            });
            measure(cpu, wall, r, reps, "  loss: gradient + score calls", () -> {
                for (DataSet d : packed) {
                    if (d.getLabels().size(0) == preOutput.size(0)) {
                        loss.computeGradient(d.getLabels(), preOutput, new ActivationIdentity(), null);
                        loss.computeScore(d.getLabels(), preOutput, new ActivationIdentity(), null, false);
                    }
                }
            });
        }
        System.out.printf("%-60s %12s %12s%n", "per epoch of " + n + " examples (median of " + reps + ")", "CPU s", "wall s");
        for (String k : cpu.keySet()) {
            System.out.printf(Locale.ROOT, "%-60s %12.3f %12.3f%n", k, median(cpu.get(k)), median(wall.get(k)));
        }
        // the work a cached epoch does beyond a hard-label one, from its parts (wall): attaching beyond the
        // data iterator (which both epochs run) and the finiteness checks; the kd4j loss is timed above
        double extra = median(wall.get(ATTACH)) - median(wall.get(ITERATOR)) + median(wall.get(CHECKS));
        double hard = median(wall.get(HARD));
        System.out.printf(Locale.ROOT, "cached epoch by its parts: hard-label epoch %.3f s + attach beyond the "
                + "iterator and finiteness checks %.3f s = %.3f x the hard-label epoch%n", hard, extra,
                (hard + extra) / hard);
        System.out.println("load average " + PerformanceSuite.loadAverage());
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    /** CPU and wall seconds of the last epoch DL4J's {@code fit} ran. */
    private static final class EpochClock extends org.deeplearning4j.optimize.api.BaseTrainingListener {
        private long cpuStart;
        private long wallStart;
        private double cpu;
        private double wall;

        @Override
        public void onEpochStart(org.deeplearning4j.nn.api.Model model) {
            cpuStart = OS.getProcessCpuTime();
            wallStart = System.nanoTime();
        }

        @Override
        public void onEpochEnd(org.deeplearning4j.nn.api.Model model) {
            cpu = (OS.getProcessCpuTime() - cpuStart) / 1e9;
            wall = (System.nanoTime() - wallStart) / 1e9;
        }
    }

    private static InMemoryDataSetIterator it(INDArray x, INDArray y) {
        return new InMemoryDataSetIterator(x, y, 128, null);
    }

    private static void measure(Map<String, double[]> cpu, Map<String, double[]> wall, int r, int reps, String key,
                                Runnable work) {
        long c0 = OS.getProcessCpuTime();
        long t0 = System.nanoTime();
        work.run();
        wall.computeIfAbsent(key, k -> new double[reps])[r] = (System.nanoTime() - t0) / 1e9;
        cpu.computeIfAbsent(key, k -> new double[reps])[r] = (OS.getProcessCpuTime() - c0) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
