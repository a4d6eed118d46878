package io.kd4j.core.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class SampleWeightsTest {
    static List<DataSet> train;
    static Teacher teacher;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(256, 1);
        teacher = Teacher.of(Fixtures.trainedTeacher(train));
    }

    private static double[] distil(SampleWeights weights) {
        Distiller.Builder b = Distiller.builder().teacher(teacher)
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(1).seed(3);
        if (weights != null) {
            b.sampleWeights(weights);
        }
        MultiLayerNetwork student = Fixtures.mlp(8, 5, 0.0);
        return b.build().distill(Student.of(student), Fixtures.iterator(train, 32)).student().params().data().asDouble();
    }

    @Test
    void givenTeacherLogits_whenConfidenceComputed_thenMatchesHandArithmetic() {
        // row 0: p = [3/4, 1/4]: max 0.75; H = 0.5623351, 1 - H / ln 2 = 0.1887219
        // row 1: uniform: max 0.5; 1 - ln 2 / ln 2 = 0
        INDArray t = Nd4j.create(new double[][] {{Math.log(3), 0}, {1, 1}}).castTo(DataType.DOUBLE);
        assertArrayEquals(new double[] {0.75, 0.5}, SampleWeights.teacherConfidence(
                SampleWeights.Confidence.MAX_PROBABILITY, 1.0).weights(null, null, t), 1e-12);
        double h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertArrayEquals(new double[] {1 - h / Math.log(2), 0}, SampleWeights.teacherConfidence(
                SampleWeights.Confidence.ONE_MINUS_NORMALIZED_ENTROPY, 1.0).weights(null, null, t), 1e-12);
        // normalised to mean 1: [0.75, 0.5] * 2 / 1.25 = [1.2, 0.8]
        assertArrayEquals(new double[] {1.2, 0.8}, SampleWeights.teacherConfidence(
                SampleWeights.Confidence.MAX_PROBABILITY, 1.0).normalizedToMeanOne().weights(null, null, t), 1e-12);
    }

    @Test
    void givenZeroWeights_whenDistilled_thenStudentDoesNotMove() {
        // every example weighted 0: zero gradients, and Adam's step on a zero gradient is 0
        double[] initial = Fixtures.mlp(8, 5, 0.0).params().data().asDouble();
        assertArrayEquals(initial, distil((f, l, t) -> new double[(int) f.size(0)]), 0.0);
    }

    @Test
    void givenUnitWeights_whenDistilled_thenSameStudentAsWithoutWeights() {
        double[] plain = distil(null);
        double[] unit = distil((f, l, t) -> {
            double[] w = new double[(int) f.size(0)];
            Arrays.fill(w, 1.0);
            return w;
        });
        assertArrayEquals(plain, unit, 1e-6);
        double[] confident = distil(SampleWeights.teacherConfidence(SampleWeights.Confidence.MAX_PROBABILITY, 1.0));
        assertTrue(!Arrays.equals(plain, confident), "confidence weights must change the training");
    }

    @Test
    void givenHookThatSeesLabelsAndTeacher_whenDistilled_thenShapesAndBadWeightsRejected() {
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class, () -> distil((f, l, t) -> {
            assertEquals(Fixtures.CLASSES, l.size(1));
            assertEquals(Fixtures.CLASSES, t.size(1));
            return new double[] {1};
        }));
        assertEquals("sample weights must return one weight per example (32), got 1", length.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> distil((f, l, t) -> {
            double[] w = new double[(int) f.size(0)];
            w[3] = -1;
            return w;
        }));
        assertEquals("sample weights must be finite and >= 0, got -1.0 for example 3 of the batch", negative.getMessage());
    }
}
