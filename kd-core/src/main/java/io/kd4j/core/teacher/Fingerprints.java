package io.kd4j.core.teacher;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** SHA-256 fingerprints of a model's configuration and parameters. */
public final class Fingerprints {
    private Fingerprints() {
    }

    /** SHA-256 over the configuration JSON and the parameters (as float64 bits), hex, 16 bytes. */
    public static String of(String configJson, INDArray params) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(configJson.getBytes(StandardCharsets.UTF_8));
            if (params != null) {
                double[] p = params.castTo(DataType.DOUBLE).dup('c').data().asDouble();
                byte[] buf = new byte[8 * 4096];
                int n = 0;
                for (double v : p) {
                    long bits = Double.doubleToLongBits(v);
                    for (int k = 0; k < 8; k++) {
                        buf[n++] = (byte) (bits >>> (8 * k));
                    }
                    if (n == buf.length) {
                        md.update(buf, 0, n);
                        n = 0;
                    }
                }
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
