package io.kd4j.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The finiteness checks of the training loop (features, teacher outputs, gradients, parameters) read
 * contiguous arrays and views in Java: they must see exactly the view's elements, a NaN or ±Inf at its
 * first or last element, and nothing just outside it.
 */
class NetworkStateFiniteTest {

    /** A 6 x 7 matrix 1..42 and a view of it: rows 2..3 (contiguous), or columns 2..4 (strided). */
    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DataType t : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (String view : new String[] {"whole", "rows", "columns", "flat"}) {
                for (String where : new String[] {"none", "first", "last", "before", "after"}) {
                    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
                        b.add(Arguments.of(t, view, where, bad));
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1}, bad value {3} at {2}")
    @MethodSource("cases")
    void givenAViewWithABadValueInsideOrOutside_whenChecked_thenOnlyInsideCounts(DataType type, String view,
                                                                               String where, double bad) {
        INDArray m = Nd4j.linspace(1, 42, 42, DataType.DOUBLE).reshape(6, 7).castTo(type);
        INDArray v = switch (view) {
            case "whole" -> m;
            case "rows" -> m.get(NDArrayIndex.interval(2, 4), NDArrayIndex.all());
            case "columns" -> m.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 5));
            default -> m.reshape(42).get(NDArrayIndex.interval(10, 30));
        };
        // positions in the 6 x 7 matrix (row, column) of the view's first and last elements and their neighbours
        int[][] at = switch (view) {
            case "whole" -> new int[][] {{0, 0}, {5, 6}, null, null};
            case "rows" -> new int[][] {{2, 0}, {3, 6}, {1, 6}, {4, 0}};
            case "columns" -> new int[][] {{0, 2}, {5, 4}, {0, 1}, {5, 5}};
            default -> new int[][] {{1, 3}, {4, 1}, {1, 2}, {4, 2}};
        };
        int[] cell = switch (where) {
            case "first" -> at[0];
            case "last" -> at[1];
            case "before" -> at[2];
            case "after" -> at[3];
            default -> null;
        };
        if (cell != null) {
            m.putScalar(cell[0], cell[1], bad);
        }
        boolean inside = where.equals("first") || where.equals("last");
        assertEquals(!inside, NetworkState.isFinite(v), "isFinite of the view");
        if (view.equals("whole") || view.equals("rows")) {
            // columns 3..5 of the view: the first and last elements of a row are outside
            boolean inColumns = cell != null && cell[1] >= 3 && cell[1] < 5
                    && (!view.equals("rows") || (cell[0] >= 2 && cell[0] < 4));
            assertEquals(!inColumns, NetworkState.isFiniteColumns(v, 3, 5), "isFiniteColumns 3..5 of the view");
        }
    }
}
