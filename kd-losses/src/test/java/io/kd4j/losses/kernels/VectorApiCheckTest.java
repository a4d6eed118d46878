package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.kernels.VectorApiCheck.Method;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link VectorApiCheck}: which methods a JVM lacks, named by their signatures; and the kernels' own list
 * against this JVM (run in every execution: without the module every method is missing, with it on JDK 17
 * none is).
 */
class VectorApiCheckTest {
    private static final Method GET_FLOAT = new Method("java.nio.ByteBuffer", "getFloat", "int");
    private static final Method PUT_FLOAT = new Method("java.nio.ByteBuffer", "putFloat", "int", "float");
    private static final Method NO_METHOD = new Method("java.nio.ByteBuffer", "fromByteBuffer", "int");
    private static final Method WRONG_PARAMETERS = new Method("java.nio.ByteBuffer", "getFloat", "long");
    private static final Method NO_CLASS = new Method("jdk.incubator.vector.NoSuchVector", "fromByteBuffer",
            "java.nio.ByteBuffer", "int", "java.nio.ByteOrder");
    private static final Method NO_PARAMETER_CLASS = new Method("java.nio.ByteBuffer", "getFloat", "x.NoSuchType");

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(List.of(GET_FLOAT, PUT_FLOAT), Optional.empty()),
                Arguments.of(List.of(GET_FLOAT, NO_METHOD), Optional.of("ByteBuffer.fromByteBuffer(int)")),
                Arguments.of(List.of(WRONG_PARAMETERS), Optional.of("ByteBuffer.getFloat(long)")),
                Arguments.of(List.of(NO_CLASS, PUT_FLOAT, NO_PARAMETER_CLASS),
                        Optional.of("NoSuchVector.fromByteBuffer(ByteBuffer, int, ByteOrder), "
                                + "ByteBuffer.getFloat(NoSuchType)")));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void givenRequiredMethods_whenChecked_thenTheMissingOnesAreNamedInOrder(List<Method> required,
                                                                            Optional<String> expected) {
        // Given methods that exist, a name that does not, wrong parameter types, a missing class
        // When the JVM is checked for them
        Optional<String> missing = VectorApiCheck.missing(required);

        // Then exactly the missing ones are named, with their parameter types
        assertEquals(expected, missing);
    }

    @Test
    void givenThisJvm_whenTheKernelsListIsChecked_thenItMatchesWhetherTheModuleIsThere() {
        // Given this JDK 17 JVM, with or without --add-modules jdk.incubator.vector
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

        // When the kernels' methods are checked
        Optional<String> missing = VectorApiCheck.missing(VectorApiCheck.KERNELS);

        // Then all are there with the module (the vector kernels run) and all are missing without it
        if (module && Runtime.version().feature() < 19) {
            assertEquals(Optional.empty(), missing);
            assertEquals("vector", Kernels.active());
            boolean copies = "false".equals(System.getProperty(Kernels.OFF_HEAP_PROPERTY));
            assertEquals(!copies, Kernels.offHeap(), "off-heap rows read in place on JDK 17 unless asked not to");
        } else {
            assertTrue(missing.isPresent());
            assertEquals("FloatVector.fromByteBuffer(VectorSpecies, ByteBuffer, int, ByteOrder), "
                    + "FloatVector.intoByteBuffer(ByteBuffer, int, ByteOrder), "
                    + "DoubleVector.fromByteBuffer(VectorSpecies, ByteBuffer, int, ByteOrder)", missing.get());
        }
    }
}
