package io.kd4j.core.train;

/** Thrown when a loss term, the score or the parameters become non-finite during distillation. */
public final class NonFiniteLossException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NonFiniteLossException(String message) {
        super(message);
    }
}
