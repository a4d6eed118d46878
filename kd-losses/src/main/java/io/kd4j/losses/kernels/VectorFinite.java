package io.kd4j.losses.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FiniteScan} in vector lanes: {@code acc = v · 0 + acc} over the range, one fused multiply-add
 * per vector; {@code v · 0} is 0 for a finite {@code v} and NaN for NaN or ±Inf, so {@code acc} ends
 * all zeros exactly when every value is finite. Loaded by name, only with the vector kernels.
 */
final class VectorFinite {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorFinite() {
    }

    /** Whether float32 values {@code [from, from + n)} of native-order {@code b} are finite. */
    static boolean floats(ByteBuffer b, int from, int n) {
        int up = F.loopBound(n);
        FloatVector zero = FloatVector.zero(F);
        FloatVector acc = zero;
        for (int i = 0; i < up; i += F.length()) {
            acc = FloatVector.fromByteBuffer(F, b, 4 * (from + i), ORDER).fma(zero, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = up; i < n; i++) {
            sum += b.getFloat(4 * (from + i)) * 0f;
        }
        return sum == 0f;
    }

    /** Whether float64 values {@code [from, from + n)} of native-order {@code b} are finite. */
    static boolean doubles(ByteBuffer b, int from, int n) {
        int up = D.loopBound(n);
        DoubleVector zero = DoubleVector.zero(D);
        DoubleVector acc = zero;
        for (int i = 0; i < up; i += D.length()) {
            acc = DoubleVector.fromByteBuffer(D, b, 8 * (from + i), ORDER).fma(zero, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = up; i < n; i++) {
            sum += b.getDouble(8 * (from + i)) * 0.0;
        }
        return sum == 0.0;
    }
}
