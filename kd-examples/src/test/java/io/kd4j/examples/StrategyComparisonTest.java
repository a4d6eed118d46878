package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StrategyComparisonTest {

    @Test
    void givenTinyBudget_whenEveryStrategyRuns_thenOneRowPerMethodAndGenerationAndATable(@TempDir Path dir)
            throws Exception {
        // Given 256 training images, one epoch for teachers and students, one seed, every method
        Path report = dir.resolve("strategies.md");
        // When
        StrategyComparison.Result r = StrategyComparison.runExample(new String[] {"--train-limit", "256",
            "--teacher-epochs", "1", "--student-epochs", "1", "--seeds", "7", "--report", report.toString()});
        // Then: born-again adds one row per generation (2)
        assertEquals(StrategyComparison.METHODS.size() + 1, r.runs().size());
        for (StrategyComparison.Run run : r.runs()) {
            assertEquals(7, run.seed());
            assertTrue(run.accuracy() > 0.1 && run.accuracy() <= 1.0, run.toString());
        }
        assertEquals(3, r.teacherAccuracies().size());
        String table = Files.readString(report);
        for (String row : List.of("| student alone (hard labels) |", "| KD, 3 teachers, average probabilities |",
                "| DKD, 3 teachers, average losses |", "| EMA mean teacher", "| born-again, generation 2 |",
                "| self-distillation (BYOT", "| KD, teacher 1, confidence sample weights |")) {
            assertTrue(table.contains(row), row + " missing in\n" + table);
        }
    }

    @Test
    void givenBadFlags_whenRun_thenErrorsNameTheFlagAndTheValue() {
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
                () -> StrategyComparison.runExample(new String[] {"--methods", "kd,crd"}));
        assertTrue(m.getMessage().startsWith("--methods: unknown entry 'crd'; valid: [alone, kd,"), m.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StrategyComparison.runExample(new String[] {"--student-epochs", "0"}));
        assertEquals("--student-epochs must be >= 1, got 0", e.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> StrategyComparison.runExample(new String[] {"--methods", "kd,kd"}));
        assertEquals("--methods must list distinct entries, got 'kd,kd'", d.getMessage());
    }
}
