package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.core.data.InMemoryDataSetIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

class EpochChainTest {

    /** Examples 0..n-1, each a 1x1 feature holding its index. */
    private static DataSetIterator numbered(int n, int batch) {
        List<DataSet> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            examples.add(new DataSet(Nd4j.scalar((float) i).reshape(1, 1), Nd4j.ones(1, 2)));
        }
        return InMemoryDataSetIterator.of(examples, batch);
    }

    @Test
    void givenThreeBatchesAndTwoEpochs_whenRead_thenSixBatchesInOrderWithEachEpochAnnouncedBeforeItsFirstBatch() {
        // Given
        List<String> log = new ArrayList<>();
        DataSetIterator data = numbered(6, 2);
        EpochChain epochs = EpochChain.of(data, 2, e -> log.add("epoch " + e));
        // the gate ParallelWrapperDistiller fits on (not armed: its first batch is not held)
        DataSetIterator chain = new ReplicaBarrier().gate(data, epochs);
        // When
        epochs.start();
        while (chain.hasNext()) {
            log.add("batch " + (int) chain.next().getFeatures().getFloat(0));
        }
        // Then
        assertEquals(List.of("epoch 1", "batch 0", "batch 2", "batch 4", "epoch 2", "batch 0", "batch 2", "batch 4"), log);
        assertEquals(2, epochs.epoch());
        assertFalse(chain.hasNext());
        assertThrows(NoSuchElementException.class, chain::next);
        // reset() starts over at epoch 1
        chain.reset();
        assertEquals(1, epochs.epoch());
        assertEquals(0, (int) chain.next().getFeatures().getFloat(0));
    }

    @Test
    void givenBadArguments_whenChained_thenClearErrors() {
        IllegalArgumentException epochs = assertThrows(IllegalArgumentException.class,
                () -> EpochChain.of(numbered(2, 1), 0, e -> { }));
        assertEquals("epochs must be >= 1, got 0", epochs.getMessage());
        DataSetIterator once = new org.deeplearning4j.datasets.iterator.IteratorDataSetIterator(
                List.of(new DataSet(Nd4j.ones(1, 1), Nd4j.ones(1, 2))).iterator(), 1);
        IllegalArgumentException reset = assertThrows(IllegalArgumentException.class,
                () -> EpochChain.of(once, 2, e -> { }));
        assertEquals("training iterator must support reset() for epochs > 1", reset.getMessage());
    }
}
