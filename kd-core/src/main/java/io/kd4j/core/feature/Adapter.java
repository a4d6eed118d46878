package io.kd4j.core.feature;

/**
 * The trainable adapter between a student tap and its feature loss. Adapters are trained jointly
 * with the student and are not part of the exported student.
 */
public enum Adapter {
    /**
     * Chosen from the loss and the shapes: a projection ({@link #DENSE} for dense and recurrent taps,
     * {@link #CONV_1X1} for convolutional taps) when the loss compares element by element (FitNets,
     * TinyBERT, CC, cosine, CRD) and the shapes differ, and always for VID (which needs {@code [μ | ρ]});
     * none for the relational losses (SP, RKD, PKT) and for AT/NST (which compare across channel
     * counts; their spatial sizes must then match, or choose {@link #CONV_1X1}, which resizes).
     */
    AUTO,
    /** No adapter: the loss sees the tapped activation itself. */
    NONE,
    /** A dense projection (identity activation) to the teacher's width; per time step for recurrent taps. */
    DENSE,
    /**
     * A 1×1 convolution (identity activation) to the teacher's channels, preceded by an integer-factor
     * resize of the student map when the spatial sizes differ (average pooling when the student map is
     * larger, nearest-neighbour upsampling when it is smaller).
     */
    CONV_1X1
}
