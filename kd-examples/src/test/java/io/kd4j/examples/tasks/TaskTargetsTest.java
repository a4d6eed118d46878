package io.kd4j.examples.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TaskTargetsTest {

    /** Each class's attributes: upper-body, covers-legs, long-sleeves, footwear, closed-shoe, carried. */
    static Stream<Arguments> classes() {
        return Stream.of(
                Arguments.of(0, "T-shirt/top", new boolean[] {true, false, false, false, false, false}),
                Arguments.of(1, "Trouser", new boolean[] {false, true, false, false, false, false}),
                Arguments.of(2, "Pullover", new boolean[] {true, false, true, false, false, false}),
                Arguments.of(3, "Dress", new boolean[] {true, true, false, false, false, false}),
                Arguments.of(4, "Coat", new boolean[] {true, false, true, false, false, false}),
                Arguments.of(5, "Sandal", new boolean[] {false, false, false, true, false, false}),
                Arguments.of(6, "Shirt", new boolean[] {true, false, true, false, false, false}),
                Arguments.of(7, "Sneaker", new boolean[] {false, false, false, true, true, false}),
                Arguments.of(8, "Bag", new boolean[] {false, false, false, false, false, true}),
                Arguments.of(9, "Ankle boot", new boolean[] {false, false, false, true, true, false}));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("classes")
    void givenAClass_whenAttributes_thenItsRowOfTheAttributeTable(int cls, String name, boolean[] expected) {
        assertArrayEquals(expected, TaskTargets.attributes(new int[] {cls})[0], name);
    }

    @Test
    void givenAnImage_whenBrightTopHalf_thenFractionOfTopHalfPixelsAboveOneHalf() {
        float[] x = new float[784];
        for (int p = 0; p < 98; p++) {
            x[p] = 1f;                  // 98 bright pixels in the top half
        }
        x[100] = 0.5f;                  // not brighter than 0.5
        for (int p = 392; p < 784; p++) {
            x[p] = 1f;                  // the bottom half does not count
        }
        INDArray images = Nd4j.create(x, new long[] {1, 784}, 'c');
        // 98 / 392 = 0.25
        assertEquals(0.25, TaskTargets.brightTopHalf(images)[0], 1e-12);
    }

    @Test
    void givenAnImage_whenPooled_thenEachPixelIsTheMeanOfItsTwoByTwoBlock() {
        float[] x = new float[784];
        for (int p = 0; p < 784; p++) {
            x[p] = p / 1000f;           // pixel (r, c) = (28 r + c) / 1000
        }
        INDArray pooled = TaskTargets.pool2(Nd4j.create(x, new long[] {1, 784}, 'c'));
        assertEquals(196, pooled.size(1));
        // (0, 0): (0 + 1 + 28 + 29) / 4 / 1000 = 0.0145; (13, 13): (754 + 755 + 782 + 783) / 4 / 1000 = 0.7685
        assertEquals(0.0145, pooled.getDouble(0, 0), 1e-6);
        assertEquals(0.7685, pooled.getDouble(0, 195), 1e-6);
    }
}
