package io.kd4j.losses.kernels;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Whether the JVM's {@code jdk.incubator.vector} has the methods through which the vector kernels read and
 * write off-heap rows: {@code FloatVector.fromByteBuffer}, {@code FloatVector.intoByteBuffer} and
 * {@code DoubleVector.fromByteBuffer}, the only Vector API methods the kernels call that the JDK has not kept.
 * JDK 17 and 18 have them; JDK 19 replaced them by memory-segment methods (JEP 426), so on JDK 19 and later
 * the kernels would fail at their first call with a {@code NoSuchMethodError}. {@link Kernels} checks, and
 * where one is missing the vector kernels copy every row into a Java array instead ({@link Kernels#offHeap}).
 * Checked by reflection, by name, so this class loads on any JVM.
 */
final class VectorApiCheck {

    /** A public method, its owner and parameter types named by their binary names. */
    record Method(String owner, String name, List<String> parameters) {
        Method(String owner, String name, String... parameters) {
            this(owner, name, List.of(parameters));
        }

        @Override
        public String toString() {
            return simple(owner) + "." + name + "(" + parameters.stream().map(Method::simple)
                    .collect(Collectors.joining(", ")) + ")";
        }

        private static String simple(String binaryName) {
            return binaryName.substring(binaryName.lastIndexOf('.') + 1);
        }
    }

    private static final String FLOAT_VECTOR = "jdk.incubator.vector.FloatVector";
    private static final String DOUBLE_VECTOR = "jdk.incubator.vector.DoubleVector";
    private static final String SPECIES = "jdk.incubator.vector.VectorSpecies";
    private static final String BUFFER = "java.nio.ByteBuffer";
    private static final String ORDER = "java.nio.ByteOrder";

    /** The methods the vector kernels need beyond those every JDK since 17 has. */
    static final List<Method> KERNELS = List.of(
            new Method(FLOAT_VECTOR, "fromByteBuffer", SPECIES, BUFFER, "int", ORDER),
            new Method(FLOAT_VECTOR, "intoByteBuffer", BUFFER, "int", ORDER),
            new Method(DOUBLE_VECTOR, "fromByteBuffer", SPECIES, BUFFER, "int", ORDER));

    private VectorApiCheck() {
    }

    /**
     * The methods of {@code required} that this JVM lacks (a missing class counts for each of its methods),
     * as one line, or empty when it has them all.
     */
    static Optional<String> missing(List<Method> required) {
        String gaps = required.stream().filter(m -> !present(m)).map(Method::toString)
                .collect(Collectors.joining(", "));
        return gaps.isEmpty() ? Optional.empty() : Optional.of(gaps);
    }

    private static boolean present(Method m) {
        try {
            Class<?>[] types = new Class<?>[m.parameters().size()];
            for (int i = 0; i < types.length; i++) {
                types[i] = type(m.parameters().get(i));
            }
            Class.forName(m.owner(), false, VectorApiCheck.class.getClassLoader()).getMethod(m.name(), types);
            return true;
        } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
            return false;
        }
    }

    private static Class<?> type(String name) throws ClassNotFoundException {
        return switch (name) {
            case "int" -> int.class;
            case "long" -> long.class;
            case "float" -> float.class;
            case "double" -> double.class;
            case "boolean" -> boolean.class;
            default -> Class.forName(name, false, VectorApiCheck.class.getClassLoader());
        };
    }
}
