package io.kd4j.core.reliability;

import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import java.io.File;
import java.nio.file.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The child JVM of {@link KillResumeTest}: runs the reference distillation with checkpoints every 5
 * steps, printing {@code STEP n} after each step and sleeping a little so the parent can kill it mid-run.
 * Arguments: checkpoint directory, teacher zip, student zip, sleep milliseconds per step.
 */
public final class KillableRun {
    private KillableRun() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Teacher teacher = Teacher.of(ModelSerializer.restoreMultiLayerNetwork(new File(args[1]), false));
        Student student = Student.of(ModelSerializer.restoreMultiLayerNetwork(new File(args[2]), false));
        long sleep = Long.parseLong(args[3]);
        BaseTrainingListener printer = new BaseTrainingListener() {
            private int steps;

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                System.out.println("STEP " + ++steps);
                System.out.flush();
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        RunFixtures.distiller(teacher, 3).checkpoints(dir, 5).listener(printer).build()
                .distill(student, RunFixtures.shuffled(RunFixtures.data()));
        System.out.println("DONE");
    }
}
