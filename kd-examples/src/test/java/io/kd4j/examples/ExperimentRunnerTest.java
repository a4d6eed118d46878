package io.kd4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.examples.experiment.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ExperimentRunnerTest {

    @ParameterizedTest
    @ValueSource(strings = {"fmnist-balanced", "fmnist-lt100", "fmnist-lt10"})
    void givenCheckedInRecipe_whenRunWithATinyBudget_thenEveryRunReportsAndTheReportAndPlotsAreWritten(String name,
            @TempDir Path out) throws Exception {
        Recipe recipe = Recipe.load(name);
        ExperimentRunner.Result r = ExperimentRunner.runExample(new String[] {"--recipe", name, "--seeds", "1",
            "--teacher-epochs", "1", "--student-epochs", "1", "--train-limit", "1500", "--validation-per-class", "5",
            "--data", "embedded", "--out", out.toString()});
        assertEquals(recipe.runs().size(), r.runs().size());
        for (ExperimentRunner.RunResult run : r.runs()) {
            assertEquals(1, run.seeds().size());
            double acc = run.seeds().get(0).test();
            assertTrue(acc >= 0 && acc <= 1.0 && Double.isFinite(run.seeds().get(0).ece()), run.label() + " accuracy " + acc);
            assertTrue(!run.objective().contains("${"), "placeholder left in " + run.objective());
        }
        String md = Files.readString(out.resolve(name + ".md"));
        assertTrue(md.contains("--recipe " + name), "the report carries its command");
        assertTrue(md.contains("| teacher (CNN) |"));
        assertTrue(Files.size(out.resolve("img").resolve(name + "-reliability.png")) > 1000);
        assertTrue(Files.size(out.resolve("img").resolve(name + "-learning-curves.png")) > 1000);
        boolean lt = recipe.real("imbalance") > 1;
        assertEquals(lt, r.groups() != null);
        assertEquals(lt, Files.exists(out.resolve("img").resolve(name + "-group-accuracy.png")));
        if (lt) {
            assertTrue(md.contains("tail (%)"));
            // the exponential profile: the first class keeps the most examples, the last the fewest
            assertTrue(r.classCounts()[0] >= recipe.real("imbalance") * r.classCounts()[9] - 1e-9);
        }
    }

    @Test
    void givenBadRecipes_whenLoaded_thenClearErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.load("nope")).getMessage()
                .contains("no recipe named 'nope'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.parse("x", "title = t\nepochs = 3\n"))
                .getMessage().contains("line 2: unknown key 'epochs'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExperimentRunner.runExample(new String[] {}))
                .getMessage().startsWith("--recipe is required"));
    }
}
