package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskDistillationTest {

    @Test
    void givenTinyBudget_whenEveryTaskRuns_thenEachMethodHasFiniteMetricsAndATable(@TempDir Path dir) throws Exception {
        // Given 300 training images, 64 training lists, one epoch, one seed, every task
        Path report = dir.resolve("tasks.md");
        // When
        TaskDistillation.Result r = TaskDistillation.runExample(new String[] {"--train-limit", "300", "--teacher-epochs",
            "1", "--student-epochs", "1", "--seeds", "7", "--ranking-queries", "64", "--report", report.toString()});
        // Then: a teacher row and one row per distilled or plain student of the seed, per task
        Map<String, Integer> rowsPerTask = Map.of("multilabel", 3, "regression", 3, "gaussian", 4, "ranking", 4);
        rowsPerTask.forEach((task, n) -> assertEquals((long) n, r.rows().stream().filter(x -> x.task().equals(task)).count(), task));
        for (TaskDistillation.Row row : r.rows()) {
            row.metrics().forEach((k, v) -> assertTrue(Double.isFinite(v), row + ": " + k));
        }
        for (TaskDistillation.Row row : r.rows("ranking", "MarginMse")) {
            double mrr = row.metrics().get("MRR");
            assertTrue(mrr >= 1.0 / 8 && mrr <= 1.0, "MRR of 8-candidate lists is in [1/8, 1]: " + mrr);
        }
        String table = Files.readString(report);
        for (String header : List.of("| method | mAP | macro F1 |", "| method | RMSE |", "| method | RMSE | NLL | within ±1σ |",
                "| method | MRR | P@1 |", "| MultiLabelKd (T = 1) |", "| RegressionKd |", "| GaussianKl to the ensemble |",
                "| ListwiseKl (T = 1) |")) {
            assertTrue(table.contains(header), header + " missing in\n" + table);
        }
    }

    @Test
    void givenGaussianNllAndGaussianKl_whenDistilledFromTheSameEnsemble_thenTheSameStudent() throws Exception {
        // GaussianKl = GaussianNll(full) minus the teacher's entropy: the same gradient, so the same student
        TaskDistillation.Result r = TaskDistillation.runExample(new String[] {"--train-limit", "200", "--teacher-epochs",
            "1", "--student-epochs", "2", "--seeds", "3", "--tasks", "gaussian"});
        Map<String, Double> nll = r.rows("gaussian", "GaussianNll(full=true) to the ensemble").get(0).metrics();
        Map<String, Double> kl = r.rows("gaussian", "GaussianKl to the ensemble").get(0).metrics();
        assertEquals(nll.get("RMSE"), kl.get("RMSE"), 1e-5);
        assertEquals(nll.get("NLL"), kl.get("NLL"), 1e-4);
    }

    @Test
    void givenBadFlags_whenRun_thenErrorsNameTheFlagAndTheValue() {
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> TaskDistillation.runExample(new String[] {"--tasks", "ranking,sequence"}));
        assertTrue(t.getMessage().startsWith("--tasks: unknown entry 'sequence'; valid: [multilabel,"), t.getMessage());
        IllegalArgumentException q = assertThrows(IllegalArgumentException.class,
                () -> TaskDistillation.runExample(new String[] {"--ranking-queries", "0"}));
        assertEquals("--ranking-queries must be >= 1, got 0", q.getMessage());
    }
}
