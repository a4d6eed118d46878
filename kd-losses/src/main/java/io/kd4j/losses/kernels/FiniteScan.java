package io.kd4j.losses.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Whether a range of float32 or float64 values is free of NaN and ±Inf: one pass, no allocation but a
 * small chunk. The training loop checks features, teacher outputs, gradients and parameters with it
 * every step. With the vector kernels active ({@link Kernels}) the values are read in vector lanes
 * ({@code VectorFinite}); otherwise in plain Java.
 */
public final class FiniteScan {
    private static final int CHUNK = 4096;
    /**
     * {@code VectorFinite.floats/doubles(ByteBuffer, int, int)}, or null with the scalar kernels and where the
     * vector kernels copy rows ({@link Kernels#offHeap}: the JVM lacks the Vector API's ByteBuffer methods).
     */
    private static final MethodHandle FLOATS;
    private static final MethodHandle DOUBLES;

    static {
        MethodHandle f = null;
        MethodHandle d = null;
        // a kernel selection that fails (e.g. -Dkd4j.kernels=vector without the module) is reported by the
        // loss kernels themselves; the checks then read plain Java
        try {
            if (Kernels.active().equals("vector") && Kernels.offHeap()) {
                Class<?> c = Class.forName("io.kd4j.losses.kernels.VectorFinite");
                MethodType type = MethodType.methodType(boolean.class, ByteBuffer.class, int.class, int.class);
                f = MethodHandles.lookup().findStatic(c, "floats", type);
                d = MethodHandles.lookup().findStatic(c, "doubles", type);
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            f = null;
            d = null;
        }
        FLOATS = f;
        DOUBLES = d;
    }

    private FiniteScan() {
    }

    /**
     * Whether the {@code n} values from element {@code from} of {@code bytes} are finite.
     *
     * @param bytes off-heap or heap bytes; element {@code i} is at byte {@code i * size} from the start of the
     *     buffer (its position and limit do not count), read in native byte order whatever the buffer's own
     *     order
     * @param float32 float32 values, else float64
     */
    public static boolean allFinite(ByteBuffer bytes, int from, int n, boolean float32) {
        int size = float32 ? 4 : 8;
        if (from < 0 || n < 0 || (long) from + n > bytes.capacity() / size) {
            throw new IllegalArgumentException("values [" + from + ", " + ((long) from + n)
                    + ") out of range: the buffer holds " + bytes.capacity() / size + " values of " + size + " bytes");
        }
        // indices count from the start of the buffer, whatever its position, limit and order
        ByteOrder order = ByteOrder.nativeOrder();
        ByteBuffer b = bytes;
        if (b.order() != order || b.position() != 0 || b.limit() != b.capacity()) {
            b = bytes.duplicate().clear().order(order);
        }
        try {
            if (float32) {
                return FLOATS != null ? (boolean) FLOATS.invokeExact(b, from, n) : floats(b.asFloatBuffer(), from, n);
            }
            return DOUBLES != null ? (boolean) DOUBLES.invokeExact(b, from, n) : doubles(b.asDoubleBuffer(), from, n);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@link #allFinite} reads vector lanes. */
    static boolean vectorized() {
        return FLOATS != null;
    }

    /** Plain Java: a chunk at a time into an array, then a branch-free pass over it. */
    static boolean floats(FloatBuffer b, int from, int n) {
        float[] chunk = new float[Math.min(n, CHUNK)];
        for (int at = 0; at < n; at += chunk.length) {
            int len = Math.min(chunk.length, n - at);
            b.get(from + at, chunk, 0, len);
            boolean bad = false;
            for (int i = 0; i < len; i++) {
                bad |= !(Math.abs(chunk[i]) <= Float.MAX_VALUE);
            }
            if (bad) {
                return false;
            }
        }
        return true;
    }

    static boolean doubles(DoubleBuffer b, int from, int n) {
        double[] chunk = new double[Math.min(n, CHUNK)];
        for (int at = 0; at < n; at += chunk.length) {
            int len = Math.min(chunk.length, n - at);
            b.get(from + at, chunk, 0, len);
            boolean bad = false;
            for (int i = 0; i < len; i++) {
                bad |= !(Math.abs(chunk[i]) <= Double.MAX_VALUE);
            }
            if (bad) {
                return false;
            }
        }
        return true;
    }
}
