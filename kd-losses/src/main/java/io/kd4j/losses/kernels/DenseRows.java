package io.kd4j.losses.kernels;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A matrix of rows read and written by the fused kernels without a copy of the whole matrix: a
 * float32 or float64 buffer (an ND4J array's off-heap buffer, or a Java array), {@code rows} rows of
 * {@code width} values starting at column {@code offset} of rows {@code stride} values apart. One row
 * at a time is copied into (or out of) a kernel's row buffer, which stays in the core's cache.
 */
public final class DenseRows {
    private final FloatBuffer floats;
    private final DoubleBuffer doubles;
    /** The same float32 values as bytes in native order, when they are off-heap (an ND4J buffer), else null. */
    private final ByteBuffer bytes;
    /** The Java array behind {@link #wrap(float[], int, int)}, else null. */
    private final float[] array;
    private final int rows;
    private final int width;
    private final int stride;
    private final int offset;
    /**
     * What owns the memory behind the buffers: the ND4J array (its off-heap buffer is freed once the array
     * is garbage-collected, and an NIO view of it does not keep it reachable) or the Java array.
     */
    private final Object owner;

    private DenseRows(FloatBuffer floats, DoubleBuffer doubles, ByteBuffer bytes, float[] array, int rows, int width,
                      int stride, int offset, Object owner) {
        this.owner = owner;
        this.floats = floats;
        this.doubles = doubles;
        this.bytes = bytes;
        this.array = array;
        this.rows = rows;
        this.width = width;
        this.stride = stride;
        this.offset = offset;
        long capacity = floats != null ? floats.capacity() : doubles.capacity();
        if (rows < 0 || width < 1 || offset < 0 || offset + width > stride
                || (rows > 0 && (long) (rows - 1) * stride + offset + width > capacity)) {
            throw new IllegalArgumentException("rows view out of range: rows=" + rows + ", width=" + width + ", stride="
                    + stride + ", offset=" + offset + ", buffer capacity=" + capacity);
        }
    }

    /** All columns of a 2-d float32 or float64 array (copied once to a c-ordered array if it is not one). */
    public static DenseRows of(INDArray matrix) {
        return columns(matrix, 0, matrix == null ? 0 : (int) matrix.size(1));
    }

    /** Columns {@code [from, from + width)} of a 2-d float32 or float64 array (e.g. a packed label block). */
    public static DenseRows columns(INDArray matrix, int from, int width) {
        Objects.requireNonNull(matrix, "matrix must not be null");
        if (matrix.rank() != 2) {
            throw new IllegalArgumentException("matrix must be 2-d [rows, columns], got shape "
                    + Arrays.toString(matrix.shape()));
        }
        DataType t = matrix.dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            throw new IllegalArgumentException("matrix must be FLOAT or DOUBLE, got " + t);
        }
        INDArray a = plain(matrix);
        int cols = (int) a.size(1);
        if (a.size(0) * (long) cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matrix has " + a.size(0) * (long) cols + " elements; at most "
                    + Integer.MAX_VALUE + " are supported");
        }
        if (t == DataType.FLOAT) {
            // read in place only by vector kernels that can (Kernels.offHeap); else copied row by row
            ByteBuffer b = Kernels.offHeap() ? a.data().asNio() : null;
            b = b != null && b.isDirect() && b.capacity() >= 4L * a.length() ? b.duplicate().order(ByteOrder.nativeOrder())
                    : null;
            return new DenseRows(a.data().asNioFloat(), null, b, null, (int) a.size(0), width, cols, from, a);
        }
        return new DenseRows(null, a.data().asNioDouble(), null, null, (int) a.size(0), width, cols, from, a);
    }

    /** A plain c-ordered array that owns its whole buffer: the array itself when it is one, else a copy. */
    public static INDArray plain(INDArray a) {
        boolean direct = a.ordering() == 'c' && !a.isView() && a.data().offset() == 0
                && a.data().length() == a.length();
        return direct ? a : a.dup('c');
    }

    /** Rows of a float array, row-major. */
    public static DenseRows wrap(float[] data, int rows, int width) {
        return new DenseRows(FloatBuffer.wrap(data), null, null, data, rows, width, width, 0, data);
    }

    /** Rows of a double array, row-major. */
    public static DenseRows wrap(double[] data, int rows, int width) {
        return new DenseRows(null, DoubleBuffer.wrap(data), null, null, rows, width, width, 0, data);
    }

    /** Number of rows. */
    public int rows() {
        return rows;
    }

    /** Values per row. */
    public int width() {
        return width;
    }

    /**
     * Keeps the memory behind these rows from being freed up to this call: the NIO buffers read by the
     * kernels point into an ND4J array's off-heap memory, which the garbage collector frees once the array
     * (which {@code plain} may have created here, as a copy) is no longer reachable.
     */
    void keepAlive() {
        Reference.reachabilityFence(owner);
    }

    /** The value at {@code (row, column)} of this view. */
    public double value(int row, int column) {
        int at = row * stride + offset + column;
        return floats != null ? floats.get(at) : doubles.get(at);
    }

    /** Whether the values are float32. */
    public boolean isFloat() {
        return floats != null;
    }

    /** Off-heap float32 values in native byte order, or null (then {@link #array()} or {@link #read}). */
    ByteBuffer bytes() {
        return bytes;
    }

    /** The Java array of a wrapped float32 matrix, or null. */
    float[] array() {
        return array;
    }

    /** Index of the first value of row {@code row} (in floats) in {@link #bytes()} or {@link #array()}. */
    int start(int row) {
        return row * stride + offset;
    }

    void read(int row, float[] dst) {
        int at = row * stride + offset;
        if (floats != null) {
            floats.get(at, dst, 0, width);
        } else {
            for (int j = 0; j < width; j++) {
                dst[j] = (float) doubles.get(at + j);
            }
        }
    }

    void read(int row, double[] dst) {
        int at = row * stride + offset;
        if (doubles != null) {
            doubles.get(at, dst, 0, width);
        } else {
            for (int j = 0; j < width; j++) {
                dst[j] = floats.get(at + j);
            }
        }
    }

    void write(int row, float[] src) {
        int at = row * stride + offset;
        if (floats != null) {
            floats.put(at, src, 0, width);
        } else {
            for (int j = 0; j < width; j++) {
                doubles.put(at + j, src[j]);
            }
        }
    }

    void write(int row, double[] src) {
        int at = row * stride + offset;
        if (doubles != null) {
            doubles.put(at, src, 0, width);
        } else {
            for (int j = 0; j < width; j++) {
                floats.put(at + j, (float) src[j]);
            }
        }
    }

    private static final float[] ZERO_FLOATS = new float[4096];
    private static final double[] ZERO_DOUBLES = new double[4096];

    /** Zeros one row (bulk copies from a zero block, as masked sequence steps have whole rows to clear). */
    void clear(int row) {
        int at = row * stride + offset;
        for (int j = 0; j < width; j += ZERO_FLOATS.length) {
            int len = Math.min(ZERO_FLOATS.length, width - j);
            if (floats != null) {
                floats.put(at + j, ZERO_FLOATS, 0, len);
            } else {
                doubles.put(at + j, ZERO_DOUBLES, 0, len);
            }
        }
    }

    /** The first column of a row whose value is above 0.5 (a one-hot label), or -1. */
    int hotIndex(int row) {
        int at = row * stride + offset;
        for (int j = 0; j < width; j++) {
            double v = floats != null ? floats.get(at + j) : doubles.get(at + j);
            if (v > 0.5) {
                return j;
            }
        }
        return -1;
    }
}
