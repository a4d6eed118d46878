package io.kd4j.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class InMemoryDataSetIteratorTest {

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void givenFeaturesOfAnyRank_whenShuffled_thenEveryExampleKeepsItsLabelAndAppearsOncePerEpoch(int rank) {
        // Given 10 examples whose every feature value is the example's index and whose label is index mod 3
        int n = 10;
        long[] shape = switch (rank) {
            case 2 -> new long[] {n, 6};
            case 3 -> new long[] {n, 2, 3};
            default -> new long[] {n, 2, 1, 3};
        };
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            x.get(NDArrayIndex.point(i)).assign(i);
            y.putScalar(i, i % 3, 1.0);
        }
        InMemoryDataSetIterator it = new InMemoryDataSetIterator(x, y, 4, 7L);

        // When one epoch is read
        List<Integer> seen = new ArrayList<>();
        while (it.hasNext()) {
            DataSet ds = it.next();
            assertEquals(rank, ds.getFeatures().rank());
            for (int r = 0; r < ds.numExamples(); r++) {
                INDArray example = ds.getFeatures().get(NDArrayIndex.point(r));
                int index = (int) example.getDouble(0);
                // Then all the example's features are its index, its label is index mod 3
                assertEquals(index * example.length(), example.sumNumber().doubleValue(), 1e-6);
                assertEquals(index % 3, ds.getLabels().getRow(r).argMax().getInt(0));
                seen.add(index);
            }
        }
        List<Integer> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertArrayEquals(new Object[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted.toArray(), "each example once");
        assertNotEquals(sorted, seen, "the order is shuffled");
    }
}
