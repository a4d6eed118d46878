package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.examples.data.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistDistillationTest {

    @Test
    void givenTinyBudget_whenMainExampleRuns_thenPrintsThreeRowsAndSavesStudent(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.md");
        FashionMnistDistillation.Result r = FashionMnistDistillation.runExample(new String[] {
            "--data", "embedded", "--teacher", "train", "--train-limit", "300", "--teacher-epochs", "1", "--student-epochs", "1",
            "--work", dir.toString(), "--report", report.toString()});
        assertEquals(3, r.rows().size());
        for (FashionMnistDistillation.Row row : r.rows()) {
            assertTrue(row.accuracy() > 0.1 && row.accuracy() <= 1.0, row.toString());
            assertTrue(row.parameters() > 0);
        }
        assertTrue(Files.exists(dir.resolve("student-kd.zip")));
        assertTrue(Files.readString(report).contains("| student with KD (CNN 5x5x8-pool-32-10) |"));
    }

    @Test
    void givenEmbeddedSubset_whenRunWithDefaults_thenUsesTheShippedTeacherWhichBeatsChance(@TempDir Path dir)
            throws Exception {
        FashionMnistDistillation.Result r = FashionMnistDistillation.runExample(new String[] {
            "--data", "embedded", "--train-limit", "200", "--student-epochs", "1", "--work", dir.toString()});
        FashionMnistDistillation.Row teacher = r.rows().get(0);
        assertTrue(teacher.model().contains("shipped"), teacher.model());
        assertTrue(teacher.accuracy() > 0.85, "shipped teacher accuracy on the embedded test subset " + teacher.accuracy());
    }

    @Test
    void givenDataSetSizes_whenDefaultsAreTaken_thenEachSetGetsTheSettingChosenOnItsValidationSplit() {
        // embedded subset (8,000 training images): 10 epochs at T = 2; full set (60,000): 6 epochs at T = 1
        assertEquals(new FashionMnistDistillation.Defaults(10, 2.0), FashionMnistDistillation.Defaults.forTrainingSet(8_000));
        assertEquals(new FashionMnistDistillation.Defaults(10, 2.0), FashionMnistDistillation.Defaults.forTrainingSet(20_000));
        assertEquals(new FashionMnistDistillation.Defaults(6, 1.0), FashionMnistDistillation.Defaults.forTrainingSet(20_001));
        assertEquals(new FashionMnistDistillation.Defaults(6, 1.0), FashionMnistDistillation.Defaults.forTrainingSet(60_000));
    }

    @Test
    void givenSubsetWithAndWithoutTemperature_whenRun_thenTheObjectiveUsesTheFlagOrTheSubsetDefault(@TempDir Path dir)
            throws Exception {
        String[] common = {"--data", "embedded", "--train-limit", "100", "--student-epochs", "1", "--work", dir.toString()};
        FashionMnistDistillation.Result byDefault = FashionMnistDistillation.runExample(common);
        assertEquals("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)", byDefault.objective());
        String[] withFlag = Stream.concat(Arrays.stream(common), Stream.of("--temperature", "3", "--kd-weight", "0.9"))
                .toArray(String[]::new);
        assertEquals("0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=3.0)",
                FashionMnistDistillation.runExample(withFlag).objective());
    }

    @Test
    void givenBadTemperature_whenRun_thenClearErrorBeforeAnyTraining() {
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class,
                () -> FashionMnistDistillation.runExample(new String[] {"--data", "embedded", "--temperature", "hot"}));
        assertEquals("--temperature must be a number, got 'hot'", notNumber.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> FashionMnistDistillation.runExample(new String[] {"--data", "embedded", "--temperature", "-1"}));
        assertEquals("--temperature must be > 0, got -1.0", negative.getMessage());
    }

    @Test
    void givenEmbeddedSubset_whenLoaded_thenStratifiedAndScaled() throws IOException {
        FashionMnist.Data d = FashionMnist.embedded();
        assertEquals(8000, d.train().size());
        assertEquals(2000, d.test().size());
        int[] counts = new int[10];
        for (int c : d.train().classes()) {
            counts[c]++;
        }
        for (int c : counts) {
            assertEquals(800, c);
        }
        assertEquals(1.0, d.train().features().maxNumber().doubleValue(), 1e-6);
        assertEquals(0.0, d.train().features().minNumber().doubleValue(), 1e-6);
    }

    @Test
    void givenMissingOrCorruptData_whenLoaded_thenClearError(@TempDir Path dir) throws IOException {
        IOException missing = assertThrows(IOException.class, () -> FashionMnist.load(dir.toString()));
        assertTrue(missing.getMessage().contains("train-images-idx3-ubyte.gz is missing"), missing.getMessage());
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.write(dir.resolve(f), new byte[] {1, 2, 3, 4});
        }
        IOException corrupt = assertThrows(IOException.class, () -> FashionMnist.load(dir.toString()));
        assertTrue(corrupt.getMessage().contains("not a gzip file"), corrupt.getMessage());
    }

    @Test
    void givenUnknownFlag_whenRun_thenErrorListsValidFlags() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FashionMnistDistillation.runExample(new String[] {"--epochs", "3"}));
        assertTrue(e.getMessage().startsWith("unknown flag(s) [epochs]; valid flags: ["), e.getMessage());
    }
}
