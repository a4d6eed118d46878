package io.kd4j.losses.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * On a JDK whose Vector API lacks the {@code ByteBuffer} methods (19 and later), with
 * {@code --add-modules jdk.incubator.vector} as the README says, a training step runs on the vector kernels
 * with every row copied into a Java array, and the log says why, instead of failing with a
 * {@code NoSuchMethodError} at the first loss call. {@code -Dkd4j.kernels.offHeap=false} gives the same
 * mode on JDK 17 (a value other than true or false fails at start-up). Each case starts a child JVM, and
 * those that run a fused step compare it with this JVM's. The newer
 * JDK is taken from {@code -Dkd4j.test.newerJdk=JAVA_HOME} or found beside this one (e.g.
 * {@code /usr/lib/jvm}); without one that case is skipped.
 */
class NewerJdkTest {
    private static final String COPIED = "rows copied into Java arrays: ";

    @Test
    void givenJdk19OrLaterWithTheModule_whenAStepRuns_thenTheVectorKernelsCopyRowsAndGiveTheSameStep()
            throws Exception {
        // Given a JDK 19+ and this test's class path
        Path java = newerJdk().orElse(null);
        assumeTrue(java != null, "no JDK 19 or later beside " + System.getProperty("java.home"));

        for (String kernels : new String[] {"-Dkd4j.kernels=auto", "-Dkd4j.kernels=vector"}) {
            // When a child JVM on it runs one fused step with the module, as the README says
            Result r = run(java, kernels);

            // Then the vector kernels run on row copies, the log names the missing methods, and the step is this JVM's
            String line = line(r.output(), "KERNELS ");
            assertTrue(line.startsWith("KERNELS vector (JDK Vector API"), kernels + ": " + line + "\n" + r.output());
            assertTrue(line.contains(COPIED + "the jdk.incubator.vector of this JVM (Java "), line);
            assertTrue(line.contains("lacks FloatVector.fromByteBuffer(VectorSpecies, ByteBuffer, int, ByteOrder), "
                    + "FloatVector.intoByteBuffer(ByteBuffer, int, ByteOrder)"), line);
            assertSameStep(r);
        }
    }

    @Test
    void givenThisJdkWithOffHeapFalse_whenAStepRuns_thenTheVectorKernelsCopyRowsAndGiveTheSameStep() throws Exception {
        // Given this JDK, the module and -Dkd4j.kernels.offHeap=false
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");

        // When a child JVM runs one fused step
        Result r = run(java, "-Dkd4j.kernels.offHeap=false");

        // Then the vector kernels run on row copies, say so, and give this JVM's step
        String line = line(r.output(), "KERNELS ");
        assertTrue(line.startsWith("KERNELS vector (JDK Vector API"), line + "\n" + r.output());
        // (on JDK 19+, run with -Djvm=..., the reason given is the missing methods, which come first)
        String reason = Runtime.version().feature() < 19 ? COPIED + "-Dkd4j.kernels.offHeap=false)"
                : COPIED + "the jdk.incubator.vector of this JVM (Java ";
        assertTrue(line.contains(reason), line);
        assertSameStep(r);
    }

    @Test
    void givenABadOffHeapValue_whenTheKernelsAreChosen_thenTheJvmFailsNamingTheRule() throws Exception {
        // Given -Dkd4j.kernels.offHeap=maybe
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");

        // When a child JVM chooses its kernels
        Result r = run(java, "-Dkd4j.kernels.offHeap=maybe");

        // Then it fails, naming the property, the rule and the value
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("kd4j.kernels.offHeap must be true or false, got 'maybe'"), r.output());
    }

    private static void assertSameStep(Result r) {
        assertEquals(0, r.exit(), r.output());
        double[] expected = NewerJdkProbe.step();
        double score = Double.parseDouble(line(r.output(), "SCORE ").substring(6));
        double squares = Double.parseDouble(line(r.output(), "GRADIENT_SQUARES ").substring(17));
        assertEquals(expected[0], score, 2e-5 * Math.abs(expected[0]));
        assertEquals(expected[1], squares, 2e-5 * Math.abs(expected[1]));
    }

    private record Result(int exit, String output) {
    }

    private static Result run(Path java, String kernels) throws IOException, InterruptedException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx1g", "--add-modules", "jdk.incubator.vector",
                kernels, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, NewerJdkProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        return new Result(p.exitValue(), output);
    }

    private static String line(String output, String prefix) {
        return output.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("none:\n" + output);
    }

    /** The {@code java} of a JDK 19 or later: the property's, or the first found beside this JDK. */
    static Optional<Path> newerJdk() throws IOException {
        String given = System.getProperty("kd4j.test.newerJdk");
        if (given != null && !given.isBlank()) {
            return Optional.of(Path.of(given, "bin", "java"));
        }
        Path parent = Path.of(System.getProperty("java.home")).toRealPath().getParent();
        if (parent == null) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(parent)) {
            return homes.sorted().filter(h -> feature(h) >= 19 && Files.isExecutable(h.resolve("bin/java")))
                    .map(h -> h.resolve("bin/java")).findFirst();
        }
    }

    /** The feature release in a JDK's {@code release} file ({@code JAVA_VERSION="25.0.3"}), or 0. */
    private static int feature(Path home) {
        try {
            for (String l : Files.readAllLines(home.resolve("release"))) {
                if (l.startsWith("JAVA_VERSION=\"")) {
                    String v = l.substring(14);
                    return Integer.parseInt(v.substring(0, v.indexOf('.') > 0 ? v.indexOf('.') : v.indexOf('"')));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
