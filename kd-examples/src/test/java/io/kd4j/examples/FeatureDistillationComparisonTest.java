package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureDistillationComparisonTest {

    @Test
    void givenTinyBudget_whenEveryMethodRuns_thenOneRunPerMethodAndSeedAndATable(@TempDir Path dir) throws Exception {
        // Given 256 training images, one epoch, one seed, every method
        Path report = dir.resolve("features.md");
        // When
        FeatureDistillationComparison.Result r = FeatureDistillationComparison.runExample(new String[] {
            "--train-limit", "256", "--student-epochs", "1", "--seeds", "7", "--report", report.toString()});
        // Then
        assertEquals(FeatureDistillationComparison.METHODS.size(), r.runs().size());
        for (FeatureDistillationComparison.Run run : r.runs()) {
            assertEquals(7, run.seed());
            assertTrue(run.accuracy() > 0.1 && run.accuracy() <= 1.0, run.toString());
        }
        assertTrue(r.teacherAccuracy() > 0.85, "shipped teacher on the embedded test subset: " + r.teacherAccuracy());
        String table = Files.readString(report);
        for (String row : List.of("| student alone (hard labels) |", "| KD |", "| KD + FitNets", "| KD + AT", "| KD + RKD")) {
            assertTrue(table.contains(row), row + " missing in\n" + table);
        }
    }

    @Test
    void givenTheMethods_whenTheirTapsAreBuilt_thenTheyFollowRepDistillersWeightsHalved() {
        assertEquals(List.of(), FeatureDistillationComparison.taps("kd"));
        assertEquals(50.0, FeatureDistillationComparison.taps("fitnets").get(0).weight());
        assertEquals("FitNetsHint", FeatureDistillationComparison.taps("fitnets").get(0).loss().replace("()", ""));
        assertEquals(500.0, FeatureDistillationComparison.taps("at").get(0).weight());
        assertEquals(List.of(12.5, 25.0), FeatureDistillationComparison.taps("rkd").stream().map(t -> t.weight()).toList());
        assertEquals("4", FeatureDistillationComparison.taps("rkd").get(1).teacherLayer());
    }

    @Test
    void givenBadFlags_whenRun_thenErrorsNameTheFlagAndTheValue() {
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
                () -> FeatureDistillationComparison.runExample(new String[] {"--methods", "kd,crd"}));
        assertTrue(m.getMessage().contains("unknown method 'crd'"), m.getMessage());
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                () -> FeatureDistillationComparison.runExample(new String[] {"--seeds", "1,x"}));
        assertTrue(s.getMessage().contains("--seeds must be comma-separated integers, got '1,x'"), s.getMessage());
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> FeatureDistillationComparison.runExample(new String[] {"--batch", "1"}));
        assertTrue(b.getMessage().contains("--batch must be >= 2"), b.getMessage());
    }
}
