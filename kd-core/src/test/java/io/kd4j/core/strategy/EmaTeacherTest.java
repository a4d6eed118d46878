package io.kd4j.core.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.student.Student;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class EmaTeacherTest {
    private static final List<DataSet> TRAIN = Fixtures.blobs(256, 1);

    /** Records the student's parameters after every optimizer step. */
    private static final class Recorder extends BaseTrainingListener {
        final List<double[]> steps = new ArrayList<>();

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            steps.add(model.params().dup().data().asDouble());
        }
    }

    private static DistillationResult distil(MultiLayerNetwork student, EmaTeacher ema, Recorder recorder) {
        return Distiller.builder().teacher(ema).listener(recorder).listener(ema.updater())
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(2).seed(3).build()
                .distill(Student.of(student), Fixtures.iterator(TRAIN, 32));
    }

    @Test
    void givenDecay_whenDistilled_thenTeacherIsTheExponentialMovingAverageOfTheStudentSteps() {
        MultiLayerNetwork student = Fixtures.mlp(8, 5, 0.0);
        double[] expected = student.params().dup().data().asDouble();
        EmaTeacher ema = EmaTeacher.of(student, 0.9);
        Recorder recorder = new Recorder();
        distil(student, ema, recorder);
        // independent EMA over the recorded steps, in double
        for (double[] step : recorder.steps) {
            for (int i = 0; i < expected.length; i++) {
                expected[i] = 0.9 * expected[i] + 0.1 * step[i];
            }
        }
        assertEquals(16, recorder.steps.size()); // 256 / 32 = 8 steps x 2 epochs
        assertEquals(16, ema.updates());
        double[] actual = ema.parameters().data().asDouble();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5, "parameter " + i);
        }
    }

    @Test
    void givenDecayZeroOrOne_whenDistilled_thenTeacherIsLastStudentOrInitialStudent() {
        MultiLayerNetwork student = Fixtures.mlp(8, 5, 0.0);
        double[] initial = student.params().dup().data().asDouble();
        EmaTeacher frozen = EmaTeacher.of(student, 1.0);
        distil(student, frozen, new Recorder());
        assertArrayEquals(initial, frozen.parameters().data().asDouble(), 0.0);
        EmaTeacher copy = EmaTeacher.of(student, 0.0);
        DistillationResult r = distil(student, copy, new Recorder());
        assertArrayEquals(r.student().params().data().asDouble(), copy.parameters().data().asDouble(), 1e-7);
        assertTrue(copy.describe().startsWith("EmaTeacher(decay=0.0"), copy.describe());
    }

    @Test
    void givenBadInputs_whenBuiltOrUpdated_thenClearErrors() {
        MultiLayerNetwork student = Fixtures.mlp(8, 5, 0.0);
        assertEquals("decay must be in [0, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> EmaTeacher.of(student, 1.5)).getMessage());
        EmaTeacher ema = EmaTeacher.of(student, 0.5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ema.update(Nd4j.zeros(1, 3)));
        assertEquals("the student being trained has 3 parameters but this EMA teacher was built from a network with "
                + student.numParams(), e.getMessage());
    }
}
