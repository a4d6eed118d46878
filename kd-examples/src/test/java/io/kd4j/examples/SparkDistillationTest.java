package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkDistillationTest {

    @Test
    void givenTinyBudget_whenSparkExampleRunsInLocalMode_thenThreeTrainersReportedAndStudentSaved(@TempDir Path dir)
            throws Exception {
        Path report = dir.resolve("report.md");
        SparkDistillation.Result r = SparkDistillation.runExample(new String[] {
            "--data", "embedded", "--train-limit", "512", "--teacher-epochs", "1", "--student-epochs", "1",
            "--master", "local[2]", "--averaging-frequency", "2", "--compare", "--work", dir.toString(),
            "--report", report.toString()});
        assertEquals(3, r.rows().size());
        for (SparkDistillation.Row row : r.rows()) {
            assertTrue(row.accuracy() > 0.1 && row.accuracy() <= 1.0, row.toString());
        }
        assertTrue(r.row("Spark local[2]").trainer().contains("2 workers"), r.rows().toString());
        assertTrue(Files.exists(dir.resolve("student-spark.zip")));
        assertTrue(Files.readString(report).contains("| one worker (Distiller) |"));
    }

    @Test
    void givenGradientSharing_whenSparkExampleRunsInLocalMode_thenSharingTrainerReportedAndStudentSaved(
            @TempDir Path dir) throws Exception {
        SparkDistillation.Result r = SparkDistillation.runExample(new String[] {
            "--data", "embedded", "--train-limit", "256", "--teacher-epochs", "1", "--student-epochs", "1",
            "--master", "local[2]", "--training-master", "sharing", "--teacher-outputs", "executors",
            "--work", dir.toString()});
        assertEquals(1, r.rows().size());
        SparkDistillation.Row row = r.row("Spark local[2]");
        assertTrue(row.trainer().contains("gradient sharing"), row.toString());
        assertTrue(row.accuracy() > 0.1 && row.accuracy() <= 1.0, row.toString());
        assertTrue(Files.exists(dir.resolve("student-spark.zip")));
    }

    @Test
    void givenBadFlags_whenRun_thenErrorsNameTheFlag() {
        IllegalArgumentException outputs = assertThrows(IllegalArgumentException.class,
                () -> SparkDistillation.runExample(new String[] {"--teacher-outputs", "nowhere"}));
        assertEquals("--teacher-outputs must be cache or executors, got 'nowhere'", outputs.getMessage());
        IllegalArgumentException trainer = assertThrows(IllegalArgumentException.class,
                () -> SparkDistillation.runExample(new String[] {"--training-master", "allreduce"}));
        assertEquals("--training-master must be averaging or sharing, got 'allreduce'", trainer.getMessage());
        IllegalArgumentException threshold = assertThrows(IllegalArgumentException.class,
                () -> SparkDistillation.runExample(new String[] {"--sharing-threshold", "0"}));
        assertEquals("--sharing-threshold must be > 0 and finite, got 0.0", threshold.getMessage());
        assertEquals("10.1.0.0/16", SparkDistillation.subnet16("10.1.7.3"));
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> SparkDistillation.subnet16("driver.example.org"));
        assertEquals("--network-mask is needed when the controller address is not an IPv4 address, got "
                + "'driver.example.org'", host.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SparkDistillation.runExample(new String[] {"--workers", "3"}));
        assertTrue(unknown.getMessage().startsWith("unknown flag(s) [workers]; valid flags: ["), unknown.getMessage());
    }
}
