package io.kd4j.core.reliability;

import static io.kd4j.core.reliability.RunFixtures.BATCHES_PER_EPOCH;
import static io.kd4j.core.reliability.RunFixtures.EPOCHS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.checkpoint.CheckpointState;
import io.kd4j.core.checkpoint.CheckpointStore;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Checkpoint and resume in one JVM: a run interrupted after step k (an exception thrown from a
 * listener, as a crash would) and resumed from its checkpoint directory ends with exactly the student
 * of an uninterrupted run; a finished run is not trained again; bad checkpoints are refused.
 */
class CheckpointResumeTest {
    static List<DataSet> data;
    static Teacher teacher;
    static MultiLayerNetwork initialStudent;
    static DistillationResult uninterrupted;

    @BeforeAll
    static void setUp() {
        data = RunFixtures.data();
        teacher = Teacher.of(Fixtures.trainedTeacher(data));
        initialStudent = RunFixtures.student();
        uninterrupted = RunFixtures.distiller(teacher, 3).build()
                .distill(Student.of(initialStudent), RunFixtures.shuffled(data));
    }

    @ParameterizedTest(name = "crash after step {0}")
    @ValueSource(ints = {1, 7, 16, 17, 33, 47})
    void givenRunCrashedAfterStepK_whenResumed_thenSameStudentAsUninterrupted(int k, @TempDir Path dir) throws Exception {
        // Given a run with checkpoints every 5 steps that crashes after step k (of 3 x 16)
        assertThrows(RunFixtures.SimulatedCrash.class, () -> RunFixtures.distiller(teacher, 3).checkpoints(dir, 5)
                .listener(new RunFixtures.CrashAt(k)).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        // at most one interval (5 steps) of work is lost (before step 5 there is no checkpoint yet: start over)
        long savedSteps = new CheckpointStore(dir).readState().map(CheckpointState::steps).orElse(0L);
        assertTrue(savedSteps >= k - 5 && savedSteps <= k, "checkpoint at step " + savedSteps + ", crash after " + k);
        assertFalse(new CheckpointStore(dir).readState().map(CheckpointState::finished).orElse(false));

        // When resumed with a fresh iterator and the same configuration
        RunFixtures.CountSteps counter = new RunFixtures.CountSteps();
        DistillationResult resumed = RunFixtures.distiller(teacher, 3).checkpoints(dir, 5).listener(counter).build()
                .distill(Student.of(initialStudent), RunFixtures.shuffled(data));

        // Then only the lost steps are redone and the student equals the uninterrupted one exactly
        assertEquals(EPOCHS * BATCHES_PER_EPOCH - savedSteps, counter.steps);
        assertArrayEquals(uninterrupted.student().params().toDoubleVector(), resumed.student().params().toDoubleVector(),
                0.0);
        assertEquals(uninterrupted.report().epochs().size(), resumed.report().epochs().size());
        for (int e = 0; e < EPOCHS; e++) {
            assertEquals(uninterrupted.report().epochs().get(e).iterations(), resumed.report().epochs().get(e).iterations());
            assertEquals(uninterrupted.report().epochs().get(e).examples(), resumed.report().epochs().get(e).examples());
            assertEquals(uninterrupted.report().epochs().get(e).meanTerms(), resumed.report().epochs().get(e).meanTerms());
        }
    }

    @Test
    void givenFinishedRun_whenDistilledAgain_thenNoTrainingAndSameStudent(@TempDir Path dir) throws Exception {
        DistillationResult first = RunFixtures.distiller(teacher, 3).checkpoints(dir, 5).build()
                .distill(Student.of(initialStudent), RunFixtures.shuffled(data));
        assertTrue(new CheckpointStore(dir).readState().orElseThrow().finished());
        byte[] before = Files.readAllBytes(dir.resolve(CheckpointStore.FILE_NAME));

        RunFixtures.CountSteps counter = new RunFixtures.CountSteps();
        DistillationResult again = RunFixtures.distiller(teacher, 3).checkpoints(dir, 5).listener(counter).build()
                .distill(Student.of(initialStudent), RunFixtures.shuffled(data));

        assertEquals(0, counter.steps, "a finished run must not train again");
        assertArrayEquals(first.student().params().toDoubleVector(), again.student().params().toDoubleVector(), 0.0);
        assertArrayEquals(before, Files.readAllBytes(dir.resolve(CheckpointStore.FILE_NAME)), "checkpoint rewritten");
        assertEquals(first.report().epochs(), again.report().epochs());
        // and checkpointing does not change what is trained
        assertArrayEquals(uninterrupted.student().params().toDoubleVector(), first.student().params().toDoubleVector(), 0.0);
    }

    @Test
    void givenCorruptedOrTruncatedCheckpoint_whenResuming_thenRefusedWithClearError(@TempDir Path dir) throws Exception {
        assertThrows(RunFixtures.SimulatedCrash.class, () -> RunFixtures.distiller(teacher, 3).checkpoints(dir, 5)
                .listener(new RunFixtures.CrashAt(12)).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        Path file = dir.resolve(CheckpointStore.FILE_NAME);
        byte[] good = Files.readAllBytes(file);

        byte[] flipped = good.clone();
        flipped[good.length / 3] ^= 0x5A; // inside the stored network
        Files.write(file, flipped);
        UncheckedIOException corrupt = assertThrows(UncheckedIOException.class, () -> RunFixtures.distiller(teacher, 3)
                .checkpoints(dir, 5).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        assertTrue(corrupt.getMessage().contains("is corrupt or incomplete"), corrupt.getMessage());

        Files.write(file, java.util.Arrays.copyOf(good, good.length / 2));
        UncheckedIOException truncated = assertThrows(UncheckedIOException.class, () -> RunFixtures.distiller(teacher, 3)
                .checkpoints(dir, 5).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        assertTrue(truncated.getMessage().contains("is corrupt or incomplete"), truncated.getMessage());
    }

    @Test
    void givenStaleTemporaryFileFromCrashMidWrite_whenResuming_thenIgnoredAndRemoved(@TempDir Path dir) throws Exception {
        assertThrows(RunFixtures.SimulatedCrash.class, () -> RunFixtures.distiller(teacher, 3).checkpoints(dir, 5)
                .listener(new RunFixtures.CrashAt(20)).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        Path stale = dir.resolve(CheckpointStore.FILE_NAME + ".123.tmp");
        Files.write(stale, new byte[] {1, 2, 3}); // a write that a kill interrupted before its rename
        DistillationResult resumed = RunFixtures.distiller(teacher, 3).checkpoints(dir, 5).build()
                .distill(Student.of(initialStudent), RunFixtures.shuffled(data));
        assertFalse(Files.exists(stale));
        assertArrayEquals(uninterrupted.student().params().toDoubleVector(), resumed.student().params().toDoubleVector(),
                0.0);
    }

    @Test
    void givenCheckpointOfAnotherRun_whenResuming_thenRefused(@TempDir Path dir) {
        assertThrows(RunFixtures.SimulatedCrash.class, () -> RunFixtures.distiller(teacher, 3).checkpoints(dir, 5)
                .listener(new RunFixtures.CrashAt(8)).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFixtures.distiller(teacher, 4)
                .checkpoints(dir, 5).build().distill(Student.of(initialStudent), RunFixtures.shuffled(data)));
        assertTrue(e.getMessage().contains("belongs to another run"), e.getMessage());
    }

    @Test
    void givenBadCheckpointSettings_whenBuilding_thenClearErrors(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RunFixtures.distiller(teacher, 3).checkpoints(dir, 0));
        assertEquals("checkpoint everyIterations must be >= 1, got 0", e.getMessage());
        NullPointerException n = assertThrows(NullPointerException.class,
                () -> RunFixtures.distiller(teacher, 3).checkpoints(null, 5));
        assertEquals("checkpoint directory must not be null", n.getMessage());
    }
}
