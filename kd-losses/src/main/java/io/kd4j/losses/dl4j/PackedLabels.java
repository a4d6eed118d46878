package io.kd4j.losses.dl4j;

import io.kd4j.losses.kernels.DenseRows;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Checks of the packed labels and the label mask that {@link DistillationLossFunction} receives from DL4J. */
final class PackedLabels {
    private PackedLabels() {
    }

    /**
     * The hard-label block must be one-hot or all zeros (no label) and the epoch column finite and
     * &gt;= 0 in every row: anything else means the labels were not packed by a {@link TargetLayout}.
     */
    static void checkPacked(DenseRows packed, int n, TargetLayout layout) {
        for (int i = 0; i < n; i++) {
            int ones = 0;
            for (int j = 0; j < layout.classes(); j++) {
                double v = packed.value(i, j);
                if (v != 0 && v != 1) {
                    throw new IllegalArgumentException("hard labels must be one-hot (0 or 1), got " + v + " at row " + i
                            + ", class " + j);
                }
                ones += v == 1 ? 1 : 0;
            }
            if (ones > 1) {
                throw new IllegalArgumentException("hard labels must be one-hot (at most one 1 per row), got " + ones
                        + " ones at row " + i);
            }
            double epoch = packed.value(i, layout.epochColumn());
            if (!(epoch >= 0) || Double.isInfinite(epoch)) {
                throw new IllegalArgumentException("packed epoch column must be finite and >= 0, got " + epoch
                        + " at row " + i);
            }
        }
    }

    /** Whether a mask holds only 0 and 1 (no per-example weights); true without a mask. */
    static boolean binary(INDArray mask) {
        if (mask == null) {
            return true;
        }
        for (double v : mask.dup('c').data().asDouble()) {
            if (v != 0 && v != 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Valid rows from a DL4J label mask ({@code [n, 1]} or {@code [n, width]}), or null. Values are 0/1
     * or per-example sample weights (finite, &gt;= 0; the reference path of {@link DistillationLossFunction}
     * applies them); a row is valid when its value is not 0.
     */
    static boolean[] validRows(INDArray mask, int n) {
        if (mask == null) {
            return null;
        }
        if (mask.rank() != 2 || mask.size(0) != n) {
            throw new IllegalArgumentException("label mask must be [" + n + ", 1] or [" + n + ", width], got "
                    + Arrays.toString(mask.shape()));
        }
        double[] m = mask.dup('c').data().asDouble();
        int mw = (int) mask.size(1);
        boolean[] valid = new boolean[n];
        for (int i = 0; i < n; i++) {
            double v = m[i * mw];
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("labels mask values (0/1, or per-example sample weights) must be "
                        + "finite and >= 0, got " + v + " at example " + i);
            }
            valid[i] = v != 0;
        }
        return valid;
    }
}
