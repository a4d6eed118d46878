package io.kd4j.examples.bench;

import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * STREAM triad {@code a[i] = b[i] + s·c[i]} on three double arrays of 2^24 elements (128 MiB each,
 * far beyond the caches), split across all cores like the fused kernels: the memory-bandwidth bound
 * of this machine, counted as STREAM counts it (24 bytes per element).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TriadBench {
    static final int N = 1 << 24;
    static final double BYTES = 24.0 * N;
    private double[] a;
    private double[] b;
    private double[] c;

    @Setup(Level.Trial)
    public void setup() {
        a = new double[N];
        b = new double[N];
        c = new double[N];
        IntStream.range(0, N).parallel().forEach(i -> {
            b[i] = i;
            c[i] = 1.0 / (i + 1);
        });
    }

    @Benchmark
    public double triad() {
        int chunks = 64;
        int len = N / chunks;
        double s = 3.0;
        IntStream.range(0, chunks).parallel().forEach(k -> {
            int end = (k + 1) * len;
            for (int i = k * len; i < end; i++) {
                a[i] = b[i] + s * c[i];
            }
        });
        return a[N - 1];
    }
}
