package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.catalogue.Objective;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper.TrainingMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

class ParallelWrapperDistillerTest {
    static final Objective OBJECTIVE = Objective.parse("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)");
    static List<DataSet> train;
    static List<DataSet> test;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        train = Blobs.examples(512, 1);
        test = Blobs.examples(256, 2);
        teacherNet = Blobs.trainedTeacher(train);
    }

    @Test
    void givenTwoWorkersAveragingEveryStepWithSgd_whenDistilled_thenSameStudentAsOneWorkerOnDoubleBatches() {
        // Plain SGD, averaging after every step: each worker steps theta - lr*g_i from the same theta, and the
        // average is theta - lr*(g_1 + g_2)/2, the step on the union of both batches (the loss is a batch
        // mean). So 2 workers on batches of 32 must equal one worker on batches of 64, same data order.
        Model parallel = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 2, 3)
                .distill(Student.of(Blobs.sgdStudent(5)), Teacher.of(teacherNet), OBJECTIVE, Blobs.iterator(train, 32))
                .student();
        Model single = Distiller.builder().teacher(Teacher.of(teacherNet)).objective(OBJECTIVE).epochs(2).seed(3)
                .build().distill(Student.of(Blobs.sgdStudent(5)), Blobs.iterator(train, 64)).student();
        assertArrayEquals(single.params().toFloatVector(), parallel.params().toFloatVector(), 1e-5f);
    }

    @Test
    void givenMomentum_whenTwoEpochsInOneRun_thenTheSecondEpochKeepsTheUpdaterStateInsteadOfRestartingIt() {
        // Given: ParallelWrapper drops the root model's updater at the end of every fit, so one fit per epoch
        // restarted the updater state (Adam's moments, a momentum velocity) at every epoch. "restarted" is
        // two one-epoch runs in a row, the second from the first's parameters with a fresh updater: exactly
        // what one fit per epoch gave for Nesterov momentum, whose update does not depend on the iteration
        // count (Adam's bias correction does, which is why momentum is used here). Same data order (the
        // iterator does not shuffle) and KD does not depend on the epoch, so the two-epoch run equals
        // "restarted" if and only if it restarts the updater (checked: 0 with one fit per epoch).
        ParallelWrapperDistiller twoEpochs = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 2, 3);
        ParallelWrapperDistiller oneEpoch = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 1, 3);
        // When
        ParallelWrapperDistiller.Result continued = twoEpochs.distill(Student.of(momentumStudent()),
                Teacher.of(teacherNet), OBJECTIVE, Blobs.iterator(train, 32));
        Model first = oneEpoch.distill(Student.of(momentumStudent()), Teacher.of(teacherNet), OBJECTIVE,
                Blobs.iterator(train, 32)).student();
        Model restarted = oneEpoch.distill(Student.of((MultiLayerNetwork) first), Teacher.of(teacherNet), OBJECTIVE,
                Blobs.iterator(train, 32)).student();
        // Then: the velocity carried into the second epoch moves the weights elsewhere
        float[] a = continued.student().params().toFloatVector();
        float[] b = restarted.params().toFloatVector();
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        assertTrue(maxDiff > 1e-3, "the two-epoch run equals two restarted one-epoch runs: max |diff| " + maxDiff);
        assertEquals(2, continued.epochSeconds().size());
    }

    private static MultiLayerNetwork momentumStudent() {
        return Blobs.mlp(8, 5, new org.nd4j.linalg.learning.config.Nesterovs(0.05, 0.9));
    }

    @Test
    void givenTwoWorkersAndOnlineTeacher_whenDistilled_thenStudentLearnsAndTeacherRanOnlyOnTheFeedingThread() {
        Blobs.ThreadRecordingTeacher teacher = new Blobs.ThreadRecordingTeacher(Teacher.of(teacherNet));
        ParallelWrapperDistiller.Result r = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 3, 3)
                .distill(Student.of(Blobs.mlp(8, 5, new org.nd4j.linalg.learning.config.Adam(1e-2))), teacher,
                        OBJECTIVE, Blobs.iterator(train, 32));
        double accuracy = Metrics.accuracy(r.student(), Blobs.iterator(test, 64));
        assertTrue(accuracy > 0.8, "student accuracy " + accuracy);
        assertEquals(3, r.epochSeconds().size());
        // the teacher never ran on a ParallelWrapper worker or prefetch thread
        assertEquals(Set.of(Thread.currentThread().getName()), teacher.threads);
        // the exported student is the user's plain model: softmax output, no kd4j class in its configuration
        String json = ((MultiLayerNetwork) r.student()).getLayerWiseConfigurations().toJson();
        assertTrue(!json.contains("io.kd4j"), "exported configuration references kd4j");
    }

    @Test
    void givenCachedTeacher_whenDistilledWithTwoWorkers_thenSameStudentAsOnlineTeacher(@TempDir Path dir)
            throws Exception {
        Path cache = dir.resolve("teacher.kdc");
        TeacherCache.write(Teacher.of(teacherNet), Blobs.iterator(train, 100), cache);
        ParallelWrapperDistiller pw = new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 2, 3);
        Model online = pw.distill(Student.of(Blobs.sgdStudent(5)), Teacher.of(teacherNet), OBJECTIVE,
                Blobs.iterator(train, 32)).student();
        Model cached = pw.distill(Student.of(Blobs.sgdStudent(5)), TeacherCache.open(cache, Teacher.of(teacherNet)),
                OBJECTIVE, Blobs.iterator(train, 32)).student();
        assertArrayEquals(online.params().toFloatVector(), cached.params().toFloatVector(), 1e-5f);
    }

    @Test
    void givenBadSettings_whenBuilt_thenErrorsNameTheRule() {
        IllegalArgumentException workers = assertThrows(IllegalArgumentException.class,
                () -> new ParallelWrapperDistiller(1, 1, TrainingMode.AVERAGING, 1, 0));
        assertEquals("workers must be >= 2 (ParallelWrapper's minimum), got 1", workers.getMessage());
        IllegalArgumentException freq = assertThrows(IllegalArgumentException.class,
                () -> new ParallelWrapperDistiller(2, 0, TrainingMode.AVERAGING, 1, 0));
        assertEquals("averagingFrequency must be >= 1, got 0", freq.getMessage());
        IllegalArgumentException custom = assertThrows(IllegalArgumentException.class,
                () -> new ParallelWrapperDistiller(2, 1, TrainingMode.CUSTOM, 1, 0));
        assertEquals("mode must be AVERAGING or SHARED_GRADIENTS, got CUSTOM", custom.getMessage());
        IllegalArgumentException epochs = assertThrows(IllegalArgumentException.class,
                () -> new ParallelWrapperDistiller(2, 1, TrainingMode.AVERAGING, 0, 0));
        assertEquals("epochs must be >= 1, got 0", epochs.getMessage());
    }
}
