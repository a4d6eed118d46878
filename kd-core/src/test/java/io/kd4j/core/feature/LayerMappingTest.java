package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.core.feature.LayerMapping.Pair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerMappingTest {
    private static final List<String> S3 = List.of("s1", "s2", "s3");
    private static final List<String> T6 = List.of("t1", "t2", "t3", "t4", "t5", "t6");
    private static final List<String> T8 = List.of("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8");

    @Test
    void givenThreeStudentAndSixTeacherLayers_whenForward_thenEveryOtherTeacherLayerEndingAtTheLast() {
        // i * n / m = i * 6 / 3: 2, 4, 6
        assertEquals(List.of(new Pair("s1", "t2"), new Pair("s2", "t4"), new Pair("s3", "t6")),
                LayerMapping.forward(S3, T6));
        // n = 8: floor(8/3) = 2, floor(16/3) = 5, 8
        assertEquals(List.of(new Pair("s1", "t2"), new Pair("s2", "t5"), new Pair("s3", "t8")),
                LayerMapping.forward(S3, T8));
    }

    @Test
    void givenThreeStudentLayers_whenUniform_thenFirstMiddleLast() {
        // round(i * (n-1) / (m-1)), i = 0, 1, 2: n = 6 -> 0, round(2.5) = 3, 5; n = 8 -> 0, round(3.5) = 4, 7
        assertEquals(List.of(new Pair("s1", "t1"), new Pair("s2", "t4"), new Pair("s3", "t6")),
                LayerMapping.uniform(S3, T6));
        assertEquals(List.of(new Pair("s1", "t1"), new Pair("s2", "t5"), new Pair("s3", "t8")),
                LayerMapping.uniform(S3, T8));
        assertEquals(List.of(new Pair("s1", "t6")), LayerMapping.uniform(List.of("s1"), T6));
    }

    @Test
    void givenK_whenLastK_thenLastLayersInOrder() {
        assertEquals(List.of(new Pair("s2", "t5"), new Pair("s3", "t6")), LayerMapping.lastK(2, S3, T6));
        assertEquals(List.of(new Pair("s3", "t8")), LayerMapping.lastK(1, S3, T8));
    }

    @Test
    void givenExplicitMap_whenMapped_thenPairsInInsertionOrder() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("conv2", "block3");
        m.put("conv1", "block1");
        assertEquals(List.of(new Pair("conv2", "block3"), new Pair("conv1", "block1")), LayerMapping.explicit(m));
    }

    @Test
    void givenBadLists_whenMapped_thenClearErrors() {
        assertEquals("the student has more candidate layers (6) than the teacher (3); map a shallow student to a deep "
                + "teacher or use an explicit mapping",
                assertThrows(IllegalArgumentException.class, () -> LayerMapping.forward(T6, S3)).getMessage());
        assertEquals("k must be in [1, 3] (the student's layer count), got 4",
                assertThrows(IllegalArgumentException.class, () -> LayerMapping.lastK(4, S3, T6)).getMessage());
        assertEquals("layer lists must not be empty, got 0 student and 6 teacher layers",
                assertThrows(IllegalArgumentException.class, () -> LayerMapping.uniform(List.of(), T6)).getMessage());
        assertEquals("an explicit layer mapping needs at least one pair",
                assertThrows(IllegalArgumentException.class, () -> LayerMapping.explicit(Map.of())).getMessage());
    }
}
