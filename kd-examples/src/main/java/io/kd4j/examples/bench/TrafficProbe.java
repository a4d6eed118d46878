package io.kd4j.examples.bench;

/**
 * The memory traffic of the fused kernels' structure without their arithmetic: how long the reads and
 * writes of a KD-shaped call take by themselves, next to a STREAM triad in the same JVM. Two off-heap
 * float32 matrices (teacher, student) of {@code rows × classes} are read and a third (the gradient) is
 * written with the JDK Vector API's {@code ByteBuffer} accesses, as the vector kernels do, rows split over
 * the cores in chunks of 64 as {@code FusedObjective} splits them. Six patterns, each row:
 * <ol>
 *   <li>{@code read}: both rows read (their sum kept, so the loads are not dropped);</li>
 *   <li>{@code read+buffers}: as {@code read}, and both rows stored into row-sized Java arrays, as the
 *   fused load pass stores its exponentials into the row buffers;</li>
 *   <li>{@code fused}: as {@code read+buffers}, and the previous row's gradient written from those arrays
 *   in the same loop, read before they are overwritten (the kernels' {@code LazyGradient} structure);
 *   the chunk's last row is written after the chunk;</li>
 *   <li>{@code two-pass}: both rows read, then read again (from the cache) and their difference written as
 *   the gradient: no row buffers;</li>
 *   <li>{@code stream}: both rows read and their difference written in the same loop, as a STREAM triad
 *   does (a KD gradient cannot be written so: it needs the row's sums first);</li>
 *   <li>{@code fused-reread}: as {@code fused}, with the previous row's gradient computed from that row
 *   read again (from the cache) in place of the row buffers.</li>
 * </ol>
 * Each call is followed by a triad ({@link TriadBench}'s arrays, both cores), so both see the same load.
 * The gradient written by each pattern that writes one is checked once against its definition.
 *
 * <p>Usage (JVM option {@code --add-modules jdk.incubator.vector}): {@code TrafficProbe [ROWSxCLASSES]
 * [REPS]}, e.g. {@code TrafficProbe 2048x32000 15}.
 */
public final class TrafficProbe {
    private static final String MODULE = "jdk.incubator.vector";

    private TrafficProbe() {
    }

    public static void main(String[] args) {
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            throw new IllegalStateException("TrafficProbe needs the JDK Vector API: start the JVM with --add-modules "
                    + MODULE);
        }
        TrafficPatterns.run(args);
    }
}
