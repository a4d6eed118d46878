package io.kd4j.examples.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The patterns of {@link TrafficProbe}, in a class of their own: it needs the Vector API module to load. */
final class TrafficPatterns {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int CHUNK = 64;
    private static final String[] PATTERNS = {"read", "read+buffers", "fused", "two-pass", "stream", "fused-reread"};

    private final int rows;
    private final int classes;
    private final ByteBuffer teacher;
    private final ByteBuffer student;
    private final ByteBuffer gradient;
    private final ThreadLocal<float[][]> buffers;

    private TrafficPatterns(int rows, int classes) {
        if (rows < 1 || classes < L || classes % L != 0 || 4L * rows * classes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape must have rows >= 1 and classes a multiple of " + L
                    + " with 4 * rows * classes <= 2^31 - 1, got " + rows + "x" + classes);
        }
        this.rows = rows;
        this.classes = classes;
        teacher = ByteBuffer.allocateDirect(4 * rows * classes).order(ORDER);
        student = ByteBuffer.allocateDirect(4 * rows * classes).order(ORDER);
        gradient = ByteBuffer.allocateDirect(4 * rows * classes).order(ORDER);
        for (int i = 0; i < rows * classes; i++) {
            teacher.putFloat(4 * i, i % 7);
            student.putFloat(4 * i, i % 5);
        }
        buffers = ThreadLocal.withInitial(() -> new float[2][classes]);
    }

    static void run(String[] args) {
        String shape = args.length > 0 ? args[0] : "2048x32000";
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        String[] dims = shape.split("x");
        if (dims.length != 2) {
            throw new IllegalArgumentException("shape must be ROWSxCLASSES, got " + shape);
        }
        TrafficPatterns probe = new TrafficPatterns(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]));
        probe.check();
        double[][] abc = KernelProfile.triadArrays();
        System.out.println("vectors: " + S + "; load average " + PerformanceSuite.loadAverage());
        for (int p = 0; p < PATTERNS.length; p++) {
            for (int w = 0; w < 10; w++) {
                probe.call(p);
            }
        }
        for (int p = 0; p < PATTERNS.length; p++) {
            double[] wall = new double[reps];
            double[] triad = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                probe.call(p);
                wall[r] = (System.nanoTime() - t0) / 1e6;
                t0 = System.nanoTime();
                KernelProfile.triad(abc[0], abc[1], abc[2]);
                triad[r] = (System.nanoTime() - t0) / 1e6;
            }
            double w = KernelProfile.median(wall);
            double bytes = (p < 2 ? 8.0 : 12.0) * probe.rows * probe.classes;
            double gbs = bytes / (w / 1e3) / 1e9;
            double triadGbs = TriadBench.BYTES / (KernelProfile.median(triad) / 1e3) / 1e9;
            System.out.printf(Locale.ROOT, "%s %s: median %.1f ms (fastest %.1f); %.1f GB/s counted (%s); triad %.1f "
                            + "GB/s; %.0f %% of triad%n", shape, PATTERNS[p], w, Arrays.stream(wall).min().orElse(0),
                    gbs, p < 2 ? "8 B per value" : "12 B per value", triadGbs, 100 * gbs / triadGbs);
        }
        System.out.println("load average " + PerformanceSuite.loadAverage());
    }

    /** One call of pattern {@code p} over all rows, on the common pool as the kernels run. */
    double call(int p) {
        int chunks = (rows + CHUNK - 1) / CHUNK;
        return IntStream.range(0, chunks).parallel().mapToDouble(ci -> {
            int from = ci * CHUNK;
            int to = Math.min(rows, from + CHUNK);
            double sum = 0;
            for (int r = from; r < to; r++) {
                sum += p == 3 ? twoPass(r) : p == 4 ? stream(r) : p == 5 ? reread(r, r > from) : row(p, r, r > from);
            }
            if (p == 2) {
                flush(to - 1);
            } else if (p == 5) {
                writeDifference(4 * (to - 1) * classes);
            }
            return sum;
        }).sum();
    }

    private double row(int p, int r, boolean previous) {
        float[][] buf = buffers.get();
        float[] t = buf[0];
        float[] s = buf[1];
        ByteBuffer tb = teacher;
        ByteBuffer sb = student;
        ByteBuffer gb = gradient;
        int at = 4 * r * classes;
        boolean store = p >= 1;
        boolean write = p == 2 && previous;
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < classes; j += L) {
            FloatVector w = FloatVector.fromByteBuffer(S, tb, at + 4 * j, ORDER);
            FloatVector v = FloatVector.fromByteBuffer(S, sb, at + 4 * j, ORDER);
            if (write) {
                FloatVector.fromArray(S, t, j).sub(FloatVector.fromArray(S, s, j))
                        .intoByteBuffer(gb, at - 4 * classes + 4 * j, ORDER);
            }
            if (store) {
                w.intoArray(t, j);
                v.intoArray(s, j);
            }
            acc = acc.add(w).add(v);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private double stream(int r) {
        ByteBuffer tb = teacher;
        ByteBuffer sb = student;
        ByteBuffer gb = gradient;
        int at = 4 * r * classes;
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < classes; j += L) {
            FloatVector w = FloatVector.fromByteBuffer(S, tb, at + 4 * j, ORDER);
            FloatVector v = FloatVector.fromByteBuffer(S, sb, at + 4 * j, ORDER);
            w.sub(v).intoByteBuffer(gb, at + 4 * j, ORDER);
            acc = acc.add(w);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private double reread(int r, boolean previous) {
        ByteBuffer tb = teacher;
        ByteBuffer sb = student;
        ByteBuffer gb = gradient;
        int at = 4 * r * classes;
        int pa = at - 4 * classes;
        if (!previous) {
            return readBoth(at);
        }
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < classes; j += L) {
            acc = acc.add(FloatVector.fromByteBuffer(S, tb, at + 4 * j, ORDER))
                    .add(FloatVector.fromByteBuffer(S, sb, at + 4 * j, ORDER));
            FloatVector.fromByteBuffer(S, tb, pa + 4 * j, ORDER)
                    .sub(FloatVector.fromByteBuffer(S, sb, pa + 4 * j, ORDER)).intoByteBuffer(gb, pa + 4 * j, ORDER);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private void flush(int r) {
        float[][] buf = buffers.get();
        for (int j = 0; j < classes; j += L) {
            FloatVector.fromArray(S, buf[0], j).sub(FloatVector.fromArray(S, buf[1], j))
                    .intoByteBuffer(gradient, 4 * (r * classes + j), ORDER);
        }
    }

    private double twoPass(int r) {
        int at = 4 * r * classes;
        double sum = readBoth(at);
        writeDifference(at);
        return sum;
    }

    /** The sum of both rows starting at byte {@code at}. */
    private double readBoth(int at) {
        ByteBuffer tb = teacher;
        ByteBuffer sb = student;
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < classes; j += L) {
            acc = acc.add(FloatVector.fromByteBuffer(S, tb, at + 4 * j, ORDER))
                    .add(FloatVector.fromByteBuffer(S, sb, at + 4 * j, ORDER));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private void writeDifference(int at) {
        ByteBuffer tb = teacher;
        ByteBuffer sb = student;
        ByteBuffer gb = gradient;
        for (int j = 0; j < classes; j += L) {
            FloatVector.fromByteBuffer(S, tb, at + 4 * j, ORDER)
                    .sub(FloatVector.fromByteBuffer(S, sb, at + 4 * j, ORDER)).intoByteBuffer(gb, at + 4 * j, ORDER);
        }
    }

    /** Every pattern that writes a gradient must leave teacher - student in each of its values. */
    private void check() {
        for (int p = 2; p < PATTERNS.length; p++) {
            for (int i = 0; i < rows * classes; i++) {
                gradient.putFloat(4 * i, Float.NaN);
            }
            call(p);
            for (int i = 0; i < rows * classes; i++) {
                float expected = i % 7 - i % 5;
                if (gradient.getFloat(4 * i) != expected) {
                    throw new IllegalStateException("pattern " + PATTERNS[p] + " wrote " + gradient.getFloat(4 * i)
                            + " at value " + i + ", expected " + expected);
                }
            }
        }
    }
}
