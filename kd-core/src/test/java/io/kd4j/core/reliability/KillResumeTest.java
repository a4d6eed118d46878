package io.kd4j.core.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.checkpoint.CheckpointState;
import io.kd4j.core.checkpoint.CheckpointStore;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A real child JVM distilling with checkpoints is killed with SIGKILL ({@code destroyForcibly}) in
 * the middle of epoch 2; resuming from its checkpoint directory loses at most one checkpoint interval
 * and ends with the same student, bit for bit, as an uninterrupted run.
 */
class KillResumeTest {
    private static final int KILL_AFTER_STEP = 23; // epoch 2, between two checkpoints (every 5 steps)

    @Test
    void givenChildJvmKilledMidTraining_whenResumed_thenSameStudentAsUninterrupted(@TempDir Path dir) throws Exception {
        // Given the teacher and the initial student on disk, shared by the child and this JVM
        List<DataSet> data = RunFixtures.data();
        File teacherFile = dir.resolve("teacher.zip").toFile();
        File studentFile = dir.resolve("student.zip").toFile();
        ModelSerializer.writeModel(Fixtures.trainedTeacher(data), teacherFile, false);
        ModelSerializer.writeModel(RunFixtures.student(), studentFile, false);
        Path checkpoints = dir.resolve("run");

        // When a child JVM runs the distillation and is killed -9 after step 23
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp,
                KillableRun.class.getName(), checkpoints.toString(), teacherFile.toString(), studentFile.toString(), "30")
                .redirectErrorStream(true).start();
        int lastStep = 0;
        StringBuilder output = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                output.append(line).append('\n');
                if (line.startsWith("STEP ")) {
                    lastStep = Integer.parseInt(line.substring(5).trim());
                    if (lastStep >= KILL_AFTER_STEP) {
                        p.destroyForcibly();
                        break;
                    }
                }
            }
        } finally {
            p.destroyForcibly();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not die");
        assertEquals(KILL_AFTER_STEP, lastStep, "child output:\n" + output);
        assertFalse(output.toString().contains("DONE"), "the child finished before it was killed");

        // Then the checkpoint on disk is complete and at most one interval behind the kill
        CheckpointState saved = new CheckpointStore(checkpoints).readState().orElseThrow();
        assertFalse(saved.finished());
        assertTrue(saved.steps() >= KILL_AFTER_STEP - 5, "checkpoint at step " + saved.steps());

        // and resuming here gives exactly the student of an uninterrupted run
        Teacher teacher = Teacher.of(ModelSerializer.restoreMultiLayerNetwork(teacherFile, false));
        MultiLayerNetwork initial = ModelSerializer.restoreMultiLayerNetwork(studentFile, false);
        RunFixtures.CountSteps resumedSteps = new RunFixtures.CountSteps();
        double[] resumed = RunFixtures.distiller(teacher, 3).checkpoints(checkpoints, 5).listener(resumedSteps).build()
                .distill(Student.of(initial), RunFixtures.shuffled(data)).student().params().toDoubleVector();
        double[] uninterrupted = RunFixtures.distiller(teacher, 3).build()
                .distill(Student.of(initial), RunFixtures.shuffled(data)).student().params().toDoubleVector();
        assertEquals(RunFixtures.EPOCHS * RunFixtures.BATCHES_PER_EPOCH - saved.steps(), resumedSteps.steps);
        assertArrayEquals(uninterrupted, resumed, 0.0);
    }
}
