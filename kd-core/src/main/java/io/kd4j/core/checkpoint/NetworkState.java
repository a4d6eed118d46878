package io.kd4j.core.checkpoint;

import io.kd4j.losses.kernels.FiniteScan;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Copies and snapshots the training state of a DL4J network: parameters, updater state and counters. */
public final class NetworkState {
    private NetworkState() {
    }

    /**
     * Copies parameters, updater state and iteration/epoch counters of {@code from} into {@code to}
     * (same architecture), e.g. a restored checkpoint into a fresh training copy.
     */
    public static void copy(Model from, Model to) {
        INDArray p = from.params();
        if (p.length() != to.params().length()) {
            throw new IllegalArgumentException("checkpoint network has " + p.length() + " parameters, the training copy "
                    + to.params().length() + ": not the same architecture");
        }
        to.params().assign(p);
        INDArray src = updaterState(from);
        INDArray dst = updaterState(to);
        if ((src == null) != (dst == null) || (src != null && src.length() != dst.length())) {
            throw new IllegalArgumentException("checkpoint updater state "
                    + (src == null ? "absent" : Arrays.toString(src.shape())) + " does not fit the training copy's "
                    + (dst == null ? "absent" : Arrays.toString(dst.shape())));
        }
        if (src != null) {
            dst.assign(src);
        }
        setCounters(to, iterationCount(from), epochCount(from));
    }

    /** The updater's state view (e.g. Adam's moments), or {@code null} for a stateless updater. */
    public static INDArray updaterState(Model m) {
        if (m instanceof MultiLayerNetwork n) {
            return n.getUpdater(true).getStateViewArray();
        }
        if (m instanceof ComputationGraph g) {
            return g.getUpdater(true).getStateViewArray();
        }
        throw new IllegalArgumentException("expected a MultiLayerNetwork or ComputationGraph, got " + m.getClass().getName());
    }

    /** DL4J's iteration counter (optimisation steps taken; Adam's bias correction reads it). */
    public static int iterationCount(Model m) {
        return m instanceof ComputationGraph g ? g.getIterationCount() : ((MultiLayerNetwork) m).getIterationCount();
    }

    /** DL4J's epoch counter. */
    public static int epochCount(Model m) {
        return m instanceof ComputationGraph g ? g.getEpochCount() : ((MultiLayerNetwork) m).getEpochCount();
    }

    private static void setCounters(Model m, int iterations, int epochs) {
        if (m instanceof ComputationGraph g) {
            g.getConfiguration().setIterationCount(iterations);
            g.getConfiguration().setEpochCount(epochs);
        } else {
            ((MultiLayerNetwork) m).setIterationCount(iterations);
            ((MultiLayerNetwork) m).setEpochCount(epochs);
        }
    }

    /**
     * Whether every element is finite (no NaN, no ±Inf); {@code null} counts as finite. A float32 or
     * float64 array whose elements are contiguous in memory (element-wise stride 1, views included, such as
     * DL4J's flattened gradient) is read in Java by {@link FiniteScan}, in one pass (in vector lanes when
     * the vector kernels are active): this runs several times per training step, where two ND4J ops per
     * check ({@code isNaN().any()}, {@code isInfinite().any()}) with their temporaries and thread
     * wake-ups cost more than the check.
     */
    public static boolean isFinite(INDArray a) {
        if (a == null || a.isEmpty()) {
            return true;
        }
        if (contiguous(a)) {
            // the NIO view does not keep a's off-heap memory alive: a is fenced until it is read
            boolean float32 = a.dataType() == DataType.FLOAT;
            ByteBuffer b = a.data().asNio();
            if (b != null && a.offset() + a.length() <= b.capacity() / (float32 ? 4 : 8)) {
                boolean finite = FiniteScan.allFinite(b, (int) a.offset(), (int) a.length(), float32);
                Reference.reachabilityFence(a);
                return finite;
            }
        }
        return !(a.isNaN().any() || a.isInfinite().any());
    }

    /** Float32 or float64 elements that occupy {@code [offset, offset + length)} of the buffer. */
    private static boolean contiguous(INDArray a) {
        return (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE) && a.elementWiseStride() == 1
                && a.offset() + a.length() <= Integer.MAX_VALUE;
    }

    /**
     * Whether columns {@code [from, to)} of a matrix are finite, e.g. the teacher block of packed labels;
     * read in Java when the matrix is a contiguous c-ordered float32 one, else through an ND4J view.
     */
    public static boolean isFiniteColumns(INDArray m, long from, long to) {
        to = Math.min(to, m.size(1));
        if (m.rank() == 2 && m.ordering() == 'c' && m.dataType() == DataType.FLOAT && contiguous(m)) {
            ByteBuffer b = m.data().asNio();
            if (b != null && m.offset() + m.length() <= b.capacity() / 4) {
                int cols = (int) m.size(1);
                int base = (int) m.offset();
                boolean finite = true;
                for (int r = 0; r < m.size(0) && finite; r++) {
                    finite = FiniteScan.allFinite(b, base + r * cols + (int) from, (int) (to - from), true);
                }
                Reference.reachabilityFence(m);
                return finite;
            }
        }
        INDArrayIndex[] block = new INDArrayIndex[m.rank()];
        block[0] = NDArrayIndex.all();
        block[1] = NDArrayIndex.interval(from, to);
        for (int i = 2; i < block.length; i++) {
            block[i] = NDArrayIndex.all();
        }
        return isFinite(m.get(block));
    }
}
