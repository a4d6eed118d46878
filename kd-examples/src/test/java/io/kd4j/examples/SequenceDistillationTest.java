package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.examples.data.CharSequences;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

class SequenceDistillationTest {

    @Test
    void givenTinyBudget_whenExampleRuns_thenThreeFinitePerplexitiesAndReport(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("sequence.md");
        SequenceDistillation.Result r = SequenceDistillation.runExample(new String[] {
            "--teacher-epochs", "1", "--student-epochs", "1", "--teacher-hidden", "16", "--student-hidden", "8",
            "--seq-length", "32", "--batch", "64", "--report", report.toString()});
        assertEquals(3, r.rows().size());
        for (SequenceDistillation.Row row : r.rows()) {
            // a model no worse than 2x uniform and better than certainty: 1 < ppl < 2 * vocab
            assertTrue(row.perplexity() > 1 && row.perplexity() < 2 * r.vocab(), row.toString());
        }
        assertTrue(Files.readString(report).contains("| student with KD (LSTM 8) |"));
    }

    @Test
    void givenTinyBudgetAndBothCaches_whenExampleRuns_thenDenseAndTopKStudentsAndCacheSizeReported() throws Exception {
        SequenceDistillation.Result r = SequenceDistillation.runExample(new String[] {
            "--teacher-epochs", "1", "--student-epochs", "1", "--teacher-hidden", "16", "--student-hidden", "8",
            "--seq-length", "32", "--batch", "64", "--cache", "both", "--k", "4"});
        assertEquals(4, r.rows().size());
        assertEquals("student with KD, top-k cache k=4 (LSTM 8)", r.rows().get(3).model());
        for (SequenceDistillation.Row row : r.rows()) {
            assertTrue(row.perplexity() > 1 && row.perplexity() < 2 * r.vocab(), row.toString());
        }
        // per stored token: 4 x 2 (uint16 index) + 4 x 4 (float32) + 4 (rest) = 28 bytes per record
        assertEquals(1, r.notes().size());
        assertTrue(r.notes().get(0).contains("(28 per record); dense float32 logits: " + 4 * r.vocab()
                + " bytes per token"), r.notes().get(0));
        assertTrue(r.objective().contains("SparseTopKKl(temperature=2.0)"), r.objective());
    }

    @Test
    void givenText_whenBatched_thenShiftedLabelsAndMaskedTail() throws Exception {
        CharSequences text = CharSequences.resource(CharSequences.CORIOLANUS);
        // chars [0, 10) hold 9 (input, next) pairs; windows of 4 start at 0, 4, 8 with lengths 4, 4, 1 (the last padded, masked)
        List<DataSet> batches = text.batches(0, 10, 4, 8);
        assertEquals(1, batches.size());
        DataSet d = batches.get(0);
        assertEquals(3, d.getFeatures().size(0));
        assertEquals(9.0, d.getLabelsMaskArray().sumNumber().doubleValue(), 0.0);
        assertEquals(0.0, d.getLabelsMaskArray().getDouble(2, 1), 0.0);
        // the label at t is the input at t + 1
        for (int t = 0; t < 3; t++) {
            for (int c = 0; c < text.vocabSize(); c++) {
                assertEquals(d.getFeatures().getDouble(0, c, t + 1), d.getLabels().getDouble(0, c, t), 0.0);
            }
        }
    }

    @Test
    void givenBadFlags_whenRun_thenClearErrors() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SequenceDistillation.runExample(new String[] {"--nope", "1"}));
        assertTrue(unknown.getMessage().startsWith("unknown flag(s) [nope]"), unknown.getMessage());
        IllegalArgumentException weight = assertThrows(IllegalArgumentException.class,
                () -> SequenceDistillation.runExample(new String[] {"--kd-weight", "2"}));
        assertEquals("--kd-weight must be in [0, 1], got 2.0", weight.getMessage());
        IllegalArgumentException cache = assertThrows(IllegalArgumentException.class,
                () -> SequenceDistillation.runExample(new String[] {"--cache", "sparse"}));
        assertEquals("--cache must be dense, topk or both, got sparse", cache.getMessage());
    }
}
