package io.kd4j.losses.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link LazyGradient}, the formula {@code kq q + kx x} (plus one class's addition) that stands for a row's
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
    void givenAnAdditionAtOneClass_whenASecondComes_thenItIsRefusedAndTheFirstStays() {
        // Given g = q + x held, with 0.25 added at class 2
        LazyGradient lazy = new LazyGradient();
        float[] q = {1f, 1f, 1f};
        float[] x = {0f, 1f, 2f};
        lazy.hold(x, 1f, 1f);
        assertTrue(lazy.add(2, 0.25f));

        // When a second class asks for an addition
        boolean taken = lazy.add(0, 5f);

        // Then it is refused (the caller writes the row out first), and only class 2 has its addition:
        // 1 + 0, 1 + 1, 1 + 2 + 0.25
        assertFalse(taken);
        float[] g = new float[3];
        lazy.writeInto(g, q, 3);
        assertArrayEquals(new float[] {1f, 2f, 3.25f}, g);
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
