package io.kd4j.core.checkpoint;

import java.util.Arrays;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

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

    /** Whether every element is finite (no NaN, no ±Inf); {@code null} counts as finite. */
    public static boolean isFinite(INDArray a) {
        return a == null || a.isEmpty() || !(a.isNaN().any() || a.isInfinite().any());
    }
}
