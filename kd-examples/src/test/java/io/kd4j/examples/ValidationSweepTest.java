package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidationSweepTest {

    @Test
    void givenTinyBudget_whenSweepRuns_thenOneValidationRowPerConfiguration(@TempDir Path dir) throws Exception {
        // Given: 200 training images of the subset, its last 500 as the validation part
        String[] args = {"--data", "embedded", "--train-limit", "200", "--validation", "500", "--student-epochs", "1",
            "--objectives", "alone; 0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1.0)", "--work", dir.toString()};
        // When
        List<ValidationSweep.Row> rows = ValidationSweep.runExample(args);
        // Then
        assertEquals(2, rows.size());
        assertEquals("alone", rows.get(0).objective());
        assertEquals("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1.0)", rows.get(1).objective());
        for (ValidationSweep.Row r : rows) {
            assertEquals(1, r.epochs());
            assertTrue(r.accuracy() > 0.1 && r.accuracy() <= 1.0, r.toString());
        }
    }

    @Test
    void givenBadFlags_whenRun_thenClearErrors(@TempDir Path dir) {
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> ValidationSweep.runExample(
                new String[] {"--data", "embedded", "--validation", "8000", "--work", dir.toString()}));
        assertEquals("--validation must be < the 8000 training images, got 8000", big.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> ValidationSweep.runExample(
                new String[] {"--data", "embedded", "--objectives", " ; ", "--work", dir.toString()}));
        assertEquals("--objectives must name at least one configuration, got ' ; '", none.getMessage());
        IllegalArgumentException epochs = assertThrows(IllegalArgumentException.class, () -> ValidationSweep.runExample(
                new String[] {"--student-epochs", "0"}));
        assertEquals("--student-epochs must be >= 1, got 0", epochs.getMessage());
    }
}
