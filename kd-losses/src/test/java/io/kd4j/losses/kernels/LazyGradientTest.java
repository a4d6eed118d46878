package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/**
 * {@link LazyGradient}, the formula {@code kq q + kx x} (plus additions at single classes) that stands for a row's
 * gradient until the next load pass writes it out. The kernel-level cases (every row of a batch against the
 * reference, with masked rows, fallbacks and chunk ends between rows) are in {@link DeferredGradientTest}.
 */
class LazyGradientTest {
    @Test
    void givenAHeldFormula_whenEvaluated_thenEveryClassIsKqQPlusKxX() {
        // Given g = 2 q - 0.5 x over three classes
        LazyGradient lazy = new LazyGradient();
        float[] q = {1f, 2f, 4f};
        float[] x = {8f, 0f, -2f};
        lazy.hold(x, 2f, -0.5f);

        // When it is evaluated class by class and into a gradient row
        float[] g = new float[3];
        float at1 = lazy.at(q, 1);
        lazy.writeInto(g, q, 3);

        // Then 2·1 - 0.5·8 = -2, 2·2 - 0 = 4, 2·4 + 0.5·2 = 9, and no formula is held any more
        assertEquals(4f, at1);
        assertArrayEquals(new float[] {-2f, 4f, 9f}, g);
        assertFalse(lazy.active);
    }

    @Test
    void givenAdditionsAtTwoClassesOneOfThemTwice_whenEvaluated_thenEachClassGetsItsOwnSum() {
        // Given g = q + x held, with 0.25 added at class 2, 5 at class 0 and 0.5 at class 2 again
        LazyGradient lazy = new LazyGradient();
        float[] q = {1f, 1f, 1f};
        float[] x = {0f, 1f, 2f};
        lazy.hold(x, 1f, 1f);
        lazy.add(2, 0.25f);
        lazy.add(0, 5f);
        lazy.add(2, 0.5f);

        // When it is evaluated class by class, into a gradient row, and for the added classes into a buffer
        float[] g = new float[3];
        float[] each = {lazy.at(q, 0), lazy.at(q, 1), lazy.at(q, 2)};
        lazy.prepare(q);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(4 * 4).order(java.nio.ByteOrder.nativeOrder());
        lazy.writeAdded(out, 1);
        lazy.writeInto(g, q, 3);

        // Then 1 + 0 + 5 = 6, 1 + 1 = 2, 1 + 2 + 0.25 + 0.5 = 3.75 each way; writeAdded wrote classes 0
        // and 2 (at float index 1 + class) and left class 1's place empty
        assertArrayEquals(new float[] {6f, 2f, 3.75f}, each);
        assertArrayEquals(new float[] {6f, 2f, 3.75f}, g);
        assertArrayEquals(new float[] {0f, 6f, 0f, 3.75f},
                new float[] {out.getFloat(0), out.getFloat(4), out.getFloat(8), out.getFloat(12)});
    }

    @Test
    void givenAFormulaHeldAfterAnAddition_whenHeldAgain_thenTheOldAdditionIsGone() {
        // Given a formula with an addition at class 0, then a new formula g = 3 q for the next row
        LazyGradient lazy = new LazyGradient();
        float[] q = {1f, 2f};
        float[] x = {0f, 0f};
        lazy.hold(x, 1f, 1f);
        lazy.add(0, 10f);
        lazy.hold(x, 3f, 0f);

        // When it is evaluated
        float[] g = new float[2];
        lazy.writeInto(g, q, 2);

        // Then 3·1 and 3·2, without the old row's 10
        assertArrayEquals(new float[] {3f, 6f}, g);
    }
}
