package io.kd4j.losses.kernels;

import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the row kernel once per JVM and says which, once, in the log:
 * <ul>
 *   <li><b>vector</b> ({@code VectorRowKernel} for float32 data, {@code VectorDoubleRowKernel} for
 *       float64 data): when the JVM has the incubator module {@code jdk.incubator.vector} (JDK 17: start
 *       it with {@code --add-modules jdk.incubator.vector}) and the system property {@code kd4j.kernels}
 *       is not {@code scalar}. They read an ND4J array's off-heap rows in place through the Vector API's
 *       {@code ByteBuffer} methods where the JVM has them ({@link VectorApiCheck}: JDK 17 and 18; JDK 19
 *       removed them) and {@code kd4j.kernels.offHeap} is not {@code false}; otherwise they copy each row
 *       into a Java array first ({@link #offHeap()});</li>
 *   <li><b>scalar</b> ({@link ScalarRowKernel}, plain Java in double precision): otherwise.</li>
 * </ul>
 * The vector classes are loaded by name only after the module was found, so a JVM without the module
 * never touches them.
 */
public final class Kernels {
    /** System property: {@code scalar} forces the plain-Java kernel, {@code vector} requires the vector one. */
    public static final String PROPERTY = "kd4j.kernels";
    /**
     * System property: {@code false} makes the vector kernels copy every row into a Java array instead of
     * reading ND4J's off-heap buffers in place, as they must on JDK 19 and later (default {@code true}).
     */
    public static final String OFF_HEAP_PROPERTY = "kd4j.kernels.offHeap";
    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static final String VECTOR_CLASS = "io.kd4j.losses.kernels.VectorRowKernel";
    private static final String VECTOR_DOUBLE_CLASS = "io.kd4j.losses.kernels.VectorDoubleRowKernel";
    private static final Selection SELECTION = select();

    /** @param offHeap whether the vector kernels read off-heap rows in place */
    private record Selection(String name, String detail, Supplier<RowKernel> floatKernel,
                             Supplier<RowKernel> doubleKernel, boolean offHeap) {
    }

    private Kernels() {
    }

    private static Selection select() {
        String wanted = System.getProperty(PROPERTY, "auto").trim().toLowerCase(java.util.Locale.ROOT);
        if (!wanted.equals("auto") && !wanted.equals("scalar") && !wanted.equals("vector")) {
            throw new IllegalArgumentException(PROPERTY + " must be one of [auto, scalar, vector], got '" + wanted + "'");
        }
        String offHeap = System.getProperty(OFF_HEAP_PROPERTY, "true").trim().toLowerCase(java.util.Locale.ROOT);
        if (!offHeap.equals("true") && !offHeap.equals("false")) {
            throw new IllegalArgumentException(OFF_HEAP_PROPERTY + " must be true or false, got '" + offHeap + "'");
        }
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        Selection s;
        if (wanted.equals("scalar")) {
            s = scalar("forced by -D" + PROPERTY + "=scalar");
        } else if (!module) {
            if (wanted.equals("vector")) {
                throw new IllegalStateException(PROPERTY + "=vector, but the JVM lacks the module jdk.incubator.vector: "
                        + "start it with --add-modules jdk.incubator.vector");
            }
            s = scalar("the JVM lacks jdk.incubator.vector; add --add-modules jdk.incubator.vector for the fast path");
        } else {
            s = vector(wanted.equals("vector"), offHeap.equals("true"));
        }
        LOG.info("kd4j fused loss kernels: {} ({})", s.name(), s.detail());
        return s;
    }

    private static Selection scalar(String why) {
        return new Selection("scalar", "plain Java, double precision; " + why, ScalarRowKernel::new,
                ScalarRowKernel::new, false);
    }

    /**
     * The vector kernels, reading off-heap rows in place if {@code offHeapWanted} and the JVM's Vector API
     * allows it; or, where they fail to load, the scalar ones and why (or, if {@code required}, an error).
     */
    private static Selection vector(boolean required, boolean offHeapWanted) {
        Optional<String> gap = VectorApiCheck.missing(VectorApiCheck.KERNELS);
        boolean offHeap = offHeapWanted && gap.isEmpty();
        String copied = "; rows copied into Java arrays: ";
        String rows = offHeap ? "" : gap.map(g -> copied + "the jdk.incubator.vector of this JVM (Java "
                + Runtime.version().feature() + ") lacks " + g + " (JDK 19 replaced them by memory-segment methods)")
                .orElse(copied + "-D" + OFF_HEAP_PROPERTY + "=false");
        try {
            Class<?> c = Class.forName(VECTOR_CLASS);
            Class<?> d = Class.forName(VECTOR_DOUBLE_CLASS);
            String detail = invokeStatic(c, "describe") + "; float64: " + invokeStatic(d, "describe") + rows;
            return new Selection("vector", detail, factory(c), factory(d), offHeap);
        } catch (ReflectiveOperationException | LinkageError e) {
            if (required) {
                throw new IllegalStateException(PROPERTY + "=vector, but the vector kernel failed to load: " + e, e);
            }
            return scalar("the vector kernel failed to load: " + e);
        }
    }

    /** A factory of kernels of class {@code c}; it creates one now, so a kernel that cannot run fails here. */
    private static Supplier<RowKernel> factory(Class<?> c) throws ReflectiveOperationException {
        java.lang.reflect.Constructor<?> ctor = c.getDeclaredConstructor();
        ctor.setAccessible(true);
        ctor.newInstance();
        return () -> {
            try {
                return (RowKernel) ctor.newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create the vector kernel " + c.getSimpleName(), e);
            }
        };
    }

    private static Object invokeStatic(Class<?> c, String method) throws ReflectiveOperationException {
        java.lang.reflect.Method m = c.getDeclaredMethod(method);
        m.setAccessible(true);
        return m.invoke(null);
    }

    /** The kernel family in use: {@code vector} or {@code scalar}. */
    public static String active() {
        return SELECTION.name();
    }

    /**
     * Whether the vector kernels read ND4J's off-heap rows in place (JDK 17 and 18, unless
     * {@code -Dkd4j.kernels.offHeap=false}); false with the scalar kernels, which always copy.
     */
    static boolean offHeap() {
        return SELECTION.offHeap();
    }

    /** One line: the active kernel and why. */
    public static String describe() {
        return SELECTION.name() + " (" + SELECTION.detail() + ")";
    }

    /** A fresh kernel (with its own row buffers) for float32 or float64 data. */
    static RowKernel newKernel(boolean float32) {
        return float32 ? SELECTION.floatKernel().get() : SELECTION.doubleKernel().get();
    }

    static void rejectNonFinite(float[] x, int c, String name, int row) {
        for (int j = 0; j < c; j++) {
            if (!Float.isFinite(x[j])) {
                throw new IllegalArgumentException(name + " must be finite, got " + x[j] + " at row " + row
                        + ", class " + j);
            }
        }
    }

    static void rejectNonFinite(double[] x, int c, String name, int row) {
        for (int j = 0; j < c; j++) {
            if (!Double.isFinite(x[j])) {
                throw new IllegalArgumentException(name + " must be finite, got " + x[j] + " at row " + row
                        + ", class " + j);
            }
        }
    }
}
