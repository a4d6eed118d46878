package io.kd4j.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.losses.logit.Ltkd.Group;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LongTailedTest {

    /** {@code perClass} examples of each of {@code classes} classes; feature = the example's row index. */
    private static INDArray[] balanced(int classes, int perClass) {
        int n = classes * perClass;
        float[] x = new float[n];
        float[] y = new float[n * classes];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i * classes + i % classes] = 1;
        }
        return new INDArray[] {Nd4j.create(x, n, 1), Nd4j.create(y, n, classes)};
    }

    @Test
    void givenRatio100AndMax800_whenProfile_thenFashionMnistLtCountsByHand() {
        // n_c = floor(800 * 100^(-c/9)): 100^(-1/9) = 0.599484 -> 479.58 -> 479; 100^(-2/9) = 0.359381 -> 287;
        // 0.215443 -> 172; 0.129155 -> 103; 0.077426 -> 61; 0.046416 -> 37; 0.027826 -> 22; 0.016681 -> 13; 0.01 -> 8
        assertArrayEquals(new long[] {800, 479, 287, 172, 103, 61, 37, 22, 13, 8},
                LongTailed.builder().imbalanceRatio(100).build().profile(10, 800));
        // ratio 10, 3 classes, max 100: 100, 100 / sqrt(10) = 31.62 -> 31, 10
        assertArrayEquals(new long[] {100, 31, 10}, LongTailed.builder().imbalanceRatio(10).build().profile(3, 100));
    }

    @Test
    void givenBalancedData_whenMadeLongTailed_thenCountsLabelsAndGroupsFollowTheProfile() {
        INDArray[] d = balanced(3, 100);
        LongTailed.Subset s = LongTailed.builder().imbalanceRatio(10).seed(5).build().apply(d[0], d[1]);
        assertArrayEquals(new long[] {100, 31, 10}, s.classCounts());
        assertEquals(141, s.size());
        long[] seen = new long[3];
        int[] idx = s.indices();
        for (int i = 0; i < s.size(); i++) {
            int row = (int) s.features().getDouble(i, 0);
            assertEquals(idx[i], row, "feature row " + i);
            int label = s.labels().getRow(i).argMax().getInt(0);
            assertEquals(row % 3, label, "label follows its example");
            seen[label]++;
            if (i > 0) {
                assertEquals(true, idx[i] > idx[i - 1], "indices ascending and unique");
            }
        }
        assertArrayEquals(new long[] {100, 31, 10}, seen);
        assertEquals(ClassGroups.of(Group.HEAD, Group.MEDIUM, Group.TAIL), s.groups());
        assertEquals("100;31;10", s.countsParameter());
    }

    @Test
    void givenSameSeed_whenDrawnTwice_thenSameSubset_andOtherSeedDiffers() {
        INDArray[] d = balanced(4, 50);
        int[] a = LongTailed.builder().imbalanceRatio(5).seed(1).build().apply(d[0], d[1]).indices();
        int[] b = LongTailed.builder().imbalanceRatio(5).seed(1).build().apply(d[0], d[1]).indices();
        int[] c = LongTailed.builder().imbalanceRatio(5).seed(2).build().apply(d[0], d[1]).indices();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void givenMaxPerClass_whenApplied_thenClassZeroKeepsThatMany() {
        INDArray[] d = balanced(2, 50);
        LongTailed.Subset s = LongTailed.builder().imbalanceRatio(4).maxPerClass(20).build().apply(d[0], d[1]);
        assertArrayEquals(new long[] {20, 5}, s.classCounts());
    }

    @Test
    void givenCounts_whenGroupsDerived_thenThirdsAndThresholdsByHand() {
        long[] counts = {800, 479, 287, 172, 103, 61, 37, 22, 13, 8};
        ClassGroups thirds = ClassGroups.byThirds(counts);
        // floor(10/3) = 3 head, 3 tail, 4 medium
        assertArrayEquals(new int[] {0, 1, 2}, thirds.members(Group.HEAD));
        assertArrayEquals(new int[] {3, 4, 5, 6}, thirds.members(Group.MEDIUM));
        assertArrayEquals(new int[] {7, 8, 9}, thirds.members(Group.TAIL));
        assertEquals("head;head;head;medium;medium;medium;medium;tail;tail;tail", thirds.ltkdParameter());
        ClassGroups shots = ClassGroups.byThresholds(counts, 100, 20);
        // > 100 head (0..4), < 20 tail (8, 9), else medium
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, shots.members(Group.HEAD));
        assertArrayEquals(new int[] {8, 9}, shots.members(Group.TAIL));
    }

    @Test
    void givenBadSettings_whenBuiltOrApplied_thenClearErrors() {
        assertEquals("imbalanceRatio must be >= 1 and finite, got 0.5", assertThrows(IllegalArgumentException.class,
                () -> LongTailed.builder().imbalanceRatio(0.5).build()).getMessage());
        assertEquals("maxPerClass must be >= 0 (0 = the smallest class's count), got -1",
                assertThrows(IllegalArgumentException.class, () -> LongTailed.builder().maxPerClass(-1).build()).getMessage());
        INDArray[] d = balanced(2, 50);
        assertEquals("imbalanceRatio 100.0 needs at least 100 examples in the largest class, got 50",
                assertThrows(IllegalArgumentException.class,
                        () -> LongTailed.builder().imbalanceRatio(100).build().apply(d[0], d[1])).getMessage());
        assertEquals("class 0 has 50 examples but the profile needs 60 (maxPerClass=60, imbalanceRatio=2.0)",
                assertThrows(IllegalArgumentException.class, () -> LongTailed.builder().imbalanceRatio(2).maxPerClass(60)
                        .build().apply(d[0], d[1])).getMessage());
    }
}
