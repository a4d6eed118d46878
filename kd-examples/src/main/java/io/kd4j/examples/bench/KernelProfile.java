package io.kd4j.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import io.kd4j.losses.kernels.Kernels;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * A quick profile of the fused kernels on a shared machine, without JMH: each call of the kernel is
 * followed by one STREAM triad, so both see the same load, and the process CPU time of the kernel
 * calls is reported next to the wall time. CPU nanoseconds per value (rows × classes) measure the
 * kernel's own work; they do not depend on how many cores the machine could give it. The fastest
 * call is printed next to the median: on a busy machine it is the least disturbed one.
 *
 * <p>Usage: {@code KernelProfile SHAPE REPS LOSS...} (losses of {@link KernelBench}), e.g.
 * {@code KernelProfile 2048x32000 15 KD CE+KD}.
 */
public final class KernelProfile {
    private KernelProfile() {
    }

    public static void main(String[] args) {
        String shape = args.length > 0 ? args[0] : "2048x32000";
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        String[] losses = args.length > 2 ? Arrays.copyOfRange(args, 2, args.length) : new String[] {"KD"};
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.out.println("kernels: " + Kernels.describe() + "; load average " + PerformanceSuite.loadAverage());
        double[][] abc = triadArrays();
        double[] a = abc[0];
        double[] b = abc[1];
        double[] c = abc[2];
        for (String loss : losses) {
            KernelBench k = new KernelBench();
            k.shape = shape;
            k.loss = loss;
            k.setup();
            Shapes.Shape dims = Shapes.parse(shape);
            double[] wall = new double[reps];
            double[] cpu = new double[reps];
            double[] triad = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                long c0 = os.getProcessCpuTime();
                k.fusedResult();
                wall[r] = (System.nanoTime() - t0) / 1e6;
                cpu[r] = (os.getProcessCpuTime() - c0) / 1e6;
                t0 = System.nanoTime();
                triad(a, b, c);
                triad[r] = (System.nanoTime() - t0) / 1e6;
            }
            double w = median(wall);
            double t = median(triad);
            double bytes = dims.minimumBytes(loss.equals("KD-f64") ? 8 : 4,
                    loss.equals("TopK-KL") ? 2 * KernelBench.TOP_K : dims.classes());
            double gbs = bytes / (w / 1e3) / 1e9;
            double triadGbs = TriadBench.BYTES / (t / 1e3) / 1e9;
            double fastest = Arrays.stream(wall).min().orElse(Double.NaN);
            System.out.printf(Locale.ROOT, "%s %s: median %.1f ms wall (fastest %.1f), %.0f ms CPU = %.2f CPU ns "
                            + "per value; %.2f GB/s; triad %.1f GB/s; %.0f %% of triad%n", shape, loss, w, fastest,
                    median(cpu), median(cpu) * 1e6 / ((double) dims.rows() * dims.classes()), gbs, triadGbs,
                    100 * gbs / triadGbs);
        }
        System.out.println("load average " + PerformanceSuite.loadAverage());
    }

    /** The STREAM triad's three arrays of {@link TriadBench#N} values, the last two filled. */
    static double[][] triadArrays() {
        double[] a = new double[TriadBench.N];
        double[] b = new double[TriadBench.N];
        double[] c = new double[TriadBench.N];
        IntStream.range(0, TriadBench.N).parallel().forEach(i -> {
            b[i] = i;
            c[i] = 1.0 / (i + 1);
        });
        return new double[][] {a, b, c};
    }

    /** One STREAM triad {@code a = b + 3 c} on both cores. */
    static void triad(double[] a, double[] b, double[] c) {
        int chunks = 64;
        int len = TriadBench.N / chunks;
        IntStream.range(0, chunks).parallel().forEach(k -> {
            int end = (k + 1) * len;
            for (int i = k * len; i < end; i++) {
                a[i] = b[i] + 3.0 * c[i];
            }
        });
    }

    static double median(double[] x) {
        double[] y = x.clone();
        Arrays.sort(y);
        return y[y.length / 2];
    }
}
