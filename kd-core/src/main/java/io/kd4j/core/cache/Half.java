package io.kd4j.core.cache;

/**
 * IEEE 754 binary16 ("float16") conversion for cached log-probabilities (JDK 17 has no
 * {@code Float.floatToFloat16}). Encoding rounds toward negative infinity, so that a stored
 * log-probability never exceeds the true one and the stored top-k probabilities never sum above 1.
 */
final class Half {
    private Half() {
    }

    /** binary16 bits of {@code f}, rounded toward -inf; overflow to ±inf, NaN stays NaN. */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (((bits >>> 23) & 0xff) == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int half;
        boolean inexact;
        if (exp >= 0x1f) {
            return (short) (sign == 0 ? 0x7bff : 0xfc00); // +max finite (toward -inf), or -inf
        } else if (exp <= 0) {
            if (exp < -10) {
                half = 0;
                inexact = (bits & 0x7fffffff) != 0;
            } else {
                int m = mant | 0x800000;
                int shift = 14 - exp;
                half = m >>> shift;
                inexact = (m & ((1 << shift) - 1)) != 0;
            }
        } else {
            half = (exp << 10) | (mant >>> 13);
            inexact = (mant & 0x1fff) != 0;
        }
        if (inexact && sign != 0) {
            half++; // larger magnitude of a negative number: toward -inf
        }
        return (short) (sign | half);
    }

    /** The float value of binary16 bits. */
    static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
