package io.kd4j.core.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;
import io.kd4j.core.metrics.StudentEvaluation;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A distilled student (a plain DL4J model with its original output layer) and the run's report.
 *
 * @param student the trained student; loads and predicts with plain DL4J, no kd4j class inside
 * @param report what was trained from what, and what each epoch measured
 * @param evaluation the student's metrics on the Distiller's evaluation data (empty when none was given)
 */
public record DistillationResult(Model student, DistillationReport report, Optional<StudentEvaluation> evaluation) {
    public DistillationResult {
        Objects.requireNonNull(student, "student");
        Objects.requireNonNull(report, "report");
        Objects.requireNonNull(evaluation, "evaluation");
    }

    /** A result without evaluation. */
    public DistillationResult(Model student, DistillationReport report) {
        this(student, report, Optional.empty());
    }

    /**
     * Saves the student as a standard DL4J model zip ({@code ModelSerializer}), written to a
     * temporary file and atomically renamed.
     */
    public void save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            ModelSerializer.writeModel(student, tmp.toFile(), false);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
