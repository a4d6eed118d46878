package io.kd4j.examples.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RankingListsTest {
    /** 12 images of 2 pixels (image i: [10 i, 10 i + 1]), classes 0..3, three images each. */
    static final int[] CLASSES = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};

    static INDArray images() {
        float[] x = new float[24];
        for (int i = 0; i < 12; i++) {
            x[2 * i] = 10 * i;
            x[2 * i + 1] = 10 * i + 1;
        }
        return Nd4j.create(x, new long[] {12, 2}, 'c');
    }

    @Test
    void givenImages_whenListsBuilt_thenOneRelevantCandidateFirstAndDistinctOthersOfOtherClasses() {
        RankingLists lists = RankingLists.build(images(), CLASSES, 5, 4, 3L);
        assertEquals(5, lists.size());
        assertEquals(Arrays.toString(new long[] {5, 4, 1, 4}), Arrays.toString(lists.features().shape()));
        for (int q = 0; q < 5; q++) {
            int[] m = lists.members()[q];
            assertEquals(q, m[0], "the query is image q");
            assertNotEquals(q, m[1], "the relevant candidate is another image");
            assertEquals(CLASSES[q], CLASSES[m[1]], "the relevant candidate has the query's class");
            for (int k = 2; k < m.length; k++) {
                assertNotEquals(CLASSES[q], CLASSES[m[k]], "candidate " + (k - 1) + " is of another class");
            }
            assertEquals(m.length, Arrays.stream(m).distinct().count(), "no image twice in a list");
            for (int k = 0; k < 4; k++) {
                // column k: the query's pixels, then candidate k's
                assertEquals(10 * q, lists.features().getDouble(q, 0, 0, k), 0);
                assertEquals(10 * q + 1, lists.features().getDouble(q, 1, 0, k), 0);
                assertEquals(10 * m[1 + k], lists.features().getDouble(q, 2, 0, k), 0);
                assertEquals(10 * m[1 + k] + 1, lists.features().getDouble(q, 3, 0, k), 0);
                assertEquals(k == 0 ? 1.0 : 0.0, lists.labels().getDouble(q, k), 0);
            }
        }
        // the same seed gives the same lists
        assertTrue(Arrays.deepEquals(lists.members(), RankingLists.build(images(), CLASSES, 5, 4, 3L).members()));
    }

    @Test
    void givenBadSizes_whenListsBuilt_thenErrorsNameTheRule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankingLists.build(images(), CLASSES, 5, 1, 3L));
        assertEquals("candidates must be >= 2 (one relevant, at least one other), got 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankingLists.build(images(), CLASSES, 13, 4, 3L));
        assertEquals("queries must be in [1, 12], got 13", e.getMessage());
        int[] lonely = CLASSES.clone();
        lonely[0] = 7;                  // the only image of class 7
        e = assertThrows(IllegalArgumentException.class, () -> RankingLists.build(images(), lonely, 1, 4, 3L));
        assertEquals("cannot draw a relevant candidate for query 0 (class 7): too few images", e.getMessage());
    }
}
