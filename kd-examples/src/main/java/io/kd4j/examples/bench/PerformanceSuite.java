package io.kd4j.examples.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The performance suite of docs/performance.md, in one run:
 * <ol>
 *   <li>JMH: STREAM triad, then each hot loss (value + gradient; float32, and KD on float64) fused vs
 *       ND4J op composition at 256x1000, 2048x32000 and the masked sequence 16x32000x128, with the JDK
 *       Vector API; the KD kernels again on the scalar path ({@code -Dkd4j.kernels=scalar}); the triad
 *       again;</li>
 *   <li>training throughput: hard labels vs KD cached vs KD online ({@link TrainingProbe}, also with the
 *       Vector API module);</li>
 *   <li>top-k vs dense accuracy on a small run ({@link TrainingProbe});</li>
 *   <li>memory at 32k classes, dense vs top-k cache, and top-k cache heap at 10k / 100k / 1M examples
 *       ({@link MemoryProbe}).</li>
 * </ol>
 * Each part runs in its own JVM(s). The ratios and the machine are printed as one table and written to
 * {@code target/bench/performance.md}. Arguments: {@code --quick} (a smoke run with short iterations,
 * small data; its numbers are not results), {@code --skip-training}, {@code --skip-memory},
 * {@code --skip-kernels}, {@code --small-only} (the kernels at 256x1000 only).
 */
public final class PerformanceSuite {
    private static final String VECTOR = "--add-modules=jdk.incubator.vector";

    private PerformanceSuite() {
    }

    public static void main(String[] args) throws Exception {
        List<String> a = List.of(args);
        boolean quick = a.contains("--quick");
        StringBuilder md = new StringBuilder();
        md.append(machine()).append("Load average at the start: ").append(loadAverage()).append("\n\n");
        long start = System.nanoTime();

        if (!a.contains("--skip-kernels")) {
            Map<String, Double> ms = kernels(quick, a.contains("--small-only"));
            md.append(kernelTable(ms));
        }

        if (!a.contains("--skip-training")) {
            // with the fast path on, as for the kernels: kd4j's per-step finiteness checks read vector lanes
            List<String> jvm = List.of("-Xmx3g", VECTOR);
            Map<String, String> thr = child(TrainingProbe.class, jvm, "throughput", quick ? "1024" : "12000");
            Map<String, String> acc = child(TrainingProbe.class, jvm, "accuracy", quick ? "1024" : "20000");
            md.append(section("Training throughput (student MLP 784-128-10, batch 128; medians of 10 alternating rounds)",
                    thr));
            md.append(section("Top-k vs dense accuracy (student MLP 784-16-10, 4 epochs)", acc));
        }
        if (!a.contains("--skip-memory")) {
            Map<String, String> mem = new LinkedHashMap<>();
            String n = quick ? "256" : "4096";
            mem.putAll(child(MemoryProbe.class, List.of("-Xmx2g"), "distill", "dense", n));
            mem.putAll(child(MemoryProbe.class, List.of("-Xmx2g"), "distill", "topk", n));
            for (String e : quick ? List.of("1000", "10000") : List.of("10000", "100000", "1000000")) {
                mem.putAll(child(MemoryProbe.class, List.of("-Xmx512m"), "scale", e));
            }
            md.append(section("Memory", mem));
        }
        md.append(String.format(Locale.ROOT, "%nTotal suite time: %.0f s%n", (System.nanoTime() - start) / 1e9));
        Path out = Path.of("target", "bench", "performance.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, md);
        System.out.println();
        System.out.println("================ kd4j performance suite ================");
        System.out.println(md);
        System.out.println("(written to " + out.toAbsolutePath() + ")");
    }

    private static final List<String> SHAPES = List.of("256x1000", "2048x32000", "16x32000x128");
    private static final List<String> LOSSES = List.of("KD", "CE+KD", "ReverseKl", "TVD", "JSD", "DKD", "LTKD",
            "TopK-KL", "KD-f64");
    private static final String[] LARGE = {"2048x32000", "16x32000x128"};

    /**
     * The kernel part: the triad, then every loss fused and composed from ND4J operations (the ND4J
     * compositions at the two large shapes with fewer iterations, each of which is one call of 1.5 to 10
     * s), the KD kernel on the scalar path, and the triad again.
     */
    private static Map<String, Double> kernels(boolean quick, boolean smallOnly) throws RunnerException {
        Map<String, Double> ms = new LinkedHashMap<>();
        List<String> jvm = new ArrayList<>(List.of("-Xmx6g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        List<String> vector = new ArrayList<>(jvm);
        vector.add(VECTOR);
        String kernel = KernelBench.class.getName();
        collect(ms, "start:", run(opts(quick, vector, false).include(TriadBench.class.getName() + ".triad")));
        collect(ms, "", run(opts(quick, vector, false).include(kernel + ".*").param("shape", "256x1000")));
        if (!smallOnly) {
            collect(ms, "", run(opts(quick, vector, false).include(kernel + ".fused").param("shape", LARGE)));
            collect(ms, "", run(opts(quick, vector, true).include(kernel + ".nd4j").param("shape", LARGE)
                    .param("loss", LOSSES.stream().filter(l -> !l.equals("KD-f64")).toArray(String[]::new))));
        }
        List<String> scalar = new ArrayList<>(jvm);
        scalar.add("-Dkd4j.kernels=scalar");
        ChainedOptionsBuilder scalarRun = opts(quick, scalar, false).include(kernel + ".fused").param("loss", "KD", "KD-f64");
        collect(ms, "scalar:", run(smallOnly ? scalarRun.param("shape", "256x1000") : scalarRun));
        collect(ms, "end:", run(opts(quick, vector, false).include(TriadBench.class.getName() + ".triad")));
        return ms;
    }

    /** JMH options: fork 1; 2 x 1 s warm-up and 3 x 1 s measurement, or 1 + 2 when {@code slow}. */
    private static ChainedOptionsBuilder opts(boolean quick, List<String> jvmArgs, boolean slow) {
        return new OptionsBuilder().forks(1).jvmArgsAppend(jvmArgs.toArray(new String[0]))
                .warmupIterations(quick || slow ? 1 : 2).warmupTime(TimeValue.milliseconds(quick ? 100 : 1000))
                .measurementIterations(quick ? 1 : slow ? 2 : 3)
                .measurementTime(TimeValue.milliseconds(quick ? 100 : 1000))
                .shouldFailOnError(true);
    }

    private static Collection<RunResult> run(ChainedOptionsBuilder o) throws RunnerException {
        return new Runner(o.build()).run();
    }

    private static void collect(Map<String, Double> ms, String prefix, Collection<RunResult> results) {
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String method = bench.substring(bench.lastIndexOf('.') + 1);
            String key = method.equals("triad") ? prefix + "triad"
                    : prefix + method + "|" + r.getParams().getParam("shape") + "|" + r.getParams().getParam("loss");
            // the median call: on a shared machine the mean is dragged by calls that lost their core
            ms.put(key, r.getPrimaryResult().getStatistics().getPercentile(50));
            ms.put(key + "|mean", r.getPrimaryResult().getScore());
        }
    }

    private static double gbs(double bytes, double ms) {
        return bytes / (ms / 1e3) / 1e9;
    }

    private static String kernelTable(Map<String, Double> ms) {
        double start = gbs(TriadBench.BYTES, ms.get("start:triad"));
        double end = gbs(TriadBench.BYTES, ms.get("end:triad"));
        double triadGBs = (start + end) / 2;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "## Loss kernels (value + gradient)%n%nSTREAM triad (3 x 128 MiB): %.2f ms = "
                + "%.1f GB/s before the kernels, %.2f ms = %.1f GB/s after; their mean, %.1f GB/s, is the bound below.%n"
                + "Load average at the end of the kernel part: %s%n%n", ms.get("start:triad"), start, ms.get("end:triad"),
                end, triadGBs, loadAverage()));
        b.append("| shape | loss | fused ms (mean) | ND4J ops ms | fused scalar ms | fused GB/s | % of triad | ND4J / fused |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (String shape : SHAPES) {
            Shapes.Shape dims = Shapes.parse(shape);
            for (String loss : LOSSES) {
                Double f = ms.get("fused|" + shape + "|" + loss);
                Double fe = ms.get("fused|" + shape + "|" + loss + "|mean");
                Double n = ms.get("nd4j|" + shape + "|" + loss);
                Double sc = ms.get("scalar:fused|" + shape + "|" + loss);
                if (f == null) {
                    continue;
                }
                double bytes = dims.minimumBytes(loss.equals("KD-f64") ? 8 : 4,
                        loss.equals("TopK-KL") ? 2 * KernelBench.TOP_K : dims.classes());
                double g = gbs(bytes, f);
                b.append(String.format(Locale.ROOT, "| %s | %s | %.3f (%.3f) | %s | %s | %.1f | %.0f %% | %s |%n", shape, loss,
                        f, fe, n == null ? "-" : String.format(Locale.ROOT, "%.1f", n),
                        sc == null ? "-" : String.format(Locale.ROOT, "%.3f", sc), g, 100 * g / triadGBs,
                        n == null ? "-" : String.format(Locale.ROOT, "%.1fx", n / f)));
            }
        }
        b.append("\nAll times are median calls (JMH SampleTime; the fused mean in brackets). fused GB/s counts the bytes a loss must move at least: the student and teacher rows of the valid rows "
                + "read once (teacher: C values, or 2k = 64 for TopK-KL), the gradient of every row written once; 4 bytes "
                + "a value, 8 for KD-f64.\n");
        return b.toString();
    }

    /** The first line of /proc/loadavg, or "?". */
    static String loadAverage() {
        try {
            return Files.readAllLines(Path.of("/proc/loadavg")).get(0);
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String section(String title, Map<String, String> values) {
        StringBuilder b = new StringBuilder("\n## ").append(title).append("\n\n| key | value |\n|---|---|\n");
        values.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        return b.toString();
    }

    /** Runs {@code main} of a probe in a fresh JVM (same class path) and collects its RESULT lines. */
    private static Map<String, String> child(Class<?> main, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        System.out.println("# " + main.getSimpleName() + " " + String.join(" ", args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> out = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    int eq = line.indexOf('=');
                    out.put(line.substring(7, eq), line.substring(eq + 1));
                }
                System.out.println("  " + line);
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(main.getSimpleName() + " " + String.join(" ", args) + " exited with " + rc);
        }
        return out;
    }

    private static String machine() throws IOException {
        String cpu = "?";
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                cpu = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        return String.format(Locale.ROOT, "Machine: %s, %d cores visible to the JVM, %s %s, max heap of this JVM %d MB, "
                        + "OMP_WAIT_POLICY=%s%n", cpu, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20, System.getenv("OMP_WAIT_POLICY"));
    }
}
