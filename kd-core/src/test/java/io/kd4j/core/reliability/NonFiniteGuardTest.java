package io.kd4j.core.reliability;

import static io.kd4j.core.reliability.RunFixtures.BATCH;
import static io.kd4j.core.reliability.RunFixtures.BATCHES_PER_EPOCH;
import static io.kd4j.core.reliability.RunFixtures.EXAMPLES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.checkpoint.CheckpointState;
import io.kd4j.core.checkpoint.CheckpointStore;
import io.kd4j.core.checkpoint.NetworkState;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.NonFiniteLossException;
import io.kd4j.core.train.NonFinitePolicy;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** NaN/Inf in training: stopped with a message naming iteration, term and batch, or skipped by policy. */
class NonFiniteGuardTest {
    static List<DataSet> data;
    static Teacher teacher;

    @BeforeAll
    static void setUp() {
        data = RunFixtures.data();
        teacher = Teacher.of(Fixtures.trainedTeacher(data));
    }

    @Test
    void givenTeacherReturningNaNForOneBatch_whenPolicyStop_thenStopsNamingBatchAndIteration(@TempDir Path dir)
            throws Exception {
        // batch 3 of epoch 1 holds examples 64..95 (fixed order, batch 32); it would be iteration 3
        Teacher bad = RunFixtures.nanForBatchAt(teacher, 64);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> RunFixtures.distiller(bad, 3)
                .checkpoints(dir, 1).build().distill(Student.of(RunFixtures.student()), Fixtures.iterator(data, BATCH)));
        assertEquals("non-finite teacher outputs in batch 3 of epoch 1 (examples 64..95 of the epoch's data order), "
                + "before iteration 3; stopping: the student is not saved", e.getMessage());
        // the last checkpoint is the last good step, with finite parameters
        CheckpointStore.Loaded last = new CheckpointStore(dir).read().orElseThrow();
        assertEquals(2, last.state().steps());
        assertTrue(NetworkState.isFinite(last.network().params()));
    }

    @Test
    void givenTeacherReturningNaNForOneBatch_whenPolicySkip_thenBatchSkippedAndRunCompletes() {
        Teacher bad = RunFixtures.nanForBatchAt(teacher, 64);
        DistillationResult r = RunFixtures.distiller(bad, 3).nonFinitePolicy(NonFinitePolicy.SKIP_BATCH).build()
                .distill(Student.of(RunFixtures.student()), Fixtures.iterator(data, BATCH));
        assertTrue(NetworkState.isFinite(r.student().params()));
        // the NaN batch is skipped in every epoch (the position-based teacher hint repeats each epoch)
        for (var e : r.report().epochs()) {
            assertEquals(BATCHES_PER_EPOCH - 1, e.iterations());
            assertEquals(EXAMPLES - BATCH, e.examples());
        }
    }

    @Test
    void givenLossTermOverflowing_whenPolicyStop_thenStopsBeforeTheUpdateNamingTheTerm() {
        // T = 1e-320 makes logits / T infinite: the adapter passes the NaN on and the guard stops the run
        MultiLayerNetwork student = RunFixtures.student();
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> io.kd4j.core.train.Distiller.builder()
                .teacher(teacher).objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1e-320)").build()
                .distill(Student.of(student), Fixtures.iterator(data, BATCH)));
        assertTrue(e.getMessage().startsWith("non-finite loss term SoftTargetKl = NaN at iteration 1 (batch 1 of epoch 1, "
                + "examples 0..31 of the epoch's data order); stopping before the update"), e.getMessage());
    }

    @Test
    void givenEveryBatchNonFinite_whenPolicySkip_thenParametersAndUpdaterRolledBackExactly() {
        MultiLayerNetwork student = RunFixtures.student();
        DistillationResult r = io.kd4j.core.train.Distiller.builder().teacher(teacher)
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1e-320)").epochs(2)
                .nonFinitePolicy(NonFinitePolicy.SKIP_BATCH).build()
                .distill(Student.of(student), Fixtures.iterator(data, BATCH));
        // every step was rolled back: the student is exactly the initial one
        assertArrayEquals(student.params().toDoubleVector(), r.student().params().toDoubleVector(), 0.0);
        assertEquals(0, r.report().epochs().get(0).iterations());
    }

    @Test
    void givenUpdateOverflowingParameters_whenPolicyStop_thenStopsNamingParameters() {
        // SGD with learning rate 1e39 overflows float32 parameters on the first step
        MultiLayerNetwork student = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).updater(new Sgd(1e39))
                .list()
                .layer(new DenseLayer.Builder().nIn(Fixtures.FEATURES).nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(Fixtures.CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        student.init();
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> RunFixtures.distiller(teacher, 3)
                .build().distill(Student.of(student), Fixtures.iterator(data, BATCH)));
        assertTrue(e.getMessage().startsWith("non-finite parameters after the update at iteration 1 (batch 1 of epoch 1"),
                e.getMessage());
    }

    @Test
    void givenNullPolicy_whenBuilding_thenClearError() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> RunFixtures.distiller(teacher, 3).nonFinitePolicy(null));
        assertEquals("nonFinitePolicy must not be null", e.getMessage());
        CheckpointState ok = new CheckpointState("x", 0, 0, 0, 0, false, java.util.Map.of());
        assertEquals(0, ok.steps());
    }
}
