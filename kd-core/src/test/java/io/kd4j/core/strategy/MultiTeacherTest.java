package io.kd4j.core.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.logit.SoftTargetKl;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class MultiTeacherTest {
    private static final TeacherBatch BATCH = new TeacherBatch(Nd4j.zeros(DataType.FLOAT, 1, 1), null, 0);

    private static FixedTeacher fixed(String name, double[][] logits) {
        return new FixedTeacher(Nd4j.create(logits).castTo(DataType.DOUBLE), name);
    }

    /** softmax(x / t) of one row, written plainly. */
    private static double[] softmax(double[] x, double t) {
        double z = 0;
        double[] e = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            e[i] = Math.exp(x[i] / t);
            z += e[i];
        }
        for (int i = 0; i < x.length; i++) {
            e[i] /= z;
        }
        return e;
    }

    @Test
    void givenWeightedTeachers_whenAveragingProbabilities_thenSoftmaxOfOutputIsWeightedMeanOfMemberSoftmaxes() {
        FixedTeacher a = fixed("a", new double[][] {{2.0, 0.5, -1.0}, {0.0, 0.0, 3.0}});
        FixedTeacher b = fixed("b", new double[][] {{-1.0, 1.0, 0.0}, {1.0, 2.0, 0.5}});
        double temperature = 2.0;
        MultiTeacher m = MultiTeacher.builder().add(a, 3).add(b, 1).temperature(temperature).build();
        INDArray out = m.logits(BATCH);
        for (int i = 0; i < 2; i++) {
            double[] pa = softmax(a.fixed().getRow(i).toDoubleVector(), temperature);
            double[] pb = softmax(b.fixed().getRow(i).toDoubleVector(), temperature);
            double[] got = softmax(out.getRow(i).toDoubleVector(), temperature);
            for (int j = 0; j < 3; j++) {
                assertEquals(0.75 * pa[j] + 0.25 * pb[j], got[j], 1e-12, "row " + i + " class " + j);
            }
        }
    }

    @Test
    void givenWeightedTeachers_whenAveragingLogits_thenWeightedMeanOfLogits() {
        FixedTeacher a = fixed("a", new double[][] {{2.0, 0.5}});
        FixedTeacher b = fixed("b", new double[][] {{-1.0, 1.0}});
        INDArray out = MultiTeacher.builder().add(a, 1).add(b, 3).aggregation(MultiTeacher.Aggregation.AVERAGE_LOGITS)
                .build().logits(BATCH);
        // 0.25 * [2, 0.5] + 0.75 * [-1, 1] = [-0.25, 0.875]
        assertArrayEquals(new double[] {-0.25, 0.875}, out.toDoubleVector(), 1e-12);
    }

    @Test
    void givenConfidentAndUnsureTeacher_whenConfidenceWeighted_thenEntropyWeightsByHand() {
        // a: p = [3/4, 1/4], H_a = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351; b: p = [1/2, 1/2], H_b = ln 2
        // w_a = e^{-H_a} / (e^{-H_a} + e^{-H_b}) = 0.5698...; mixture = w_a [0.75, 0.25] + w_b [0.5, 0.5]
        FixedTeacher a = fixed("a", new double[][] {{Math.log(3), 0}});
        FixedTeacher b = fixed("b", new double[][] {{0, 0}});
        double ha = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        double hb = Math.log(2);
        double wa = Math.exp(-ha) / (Math.exp(-ha) + Math.exp(-hb));
        INDArray out = MultiTeacher.builder().add(a).add(b).aggregation(MultiTeacher.Aggregation.CONFIDENCE_WEIGHTED)
                .build().logits(BATCH);
        double[] p = softmax(out.toDoubleVector(), 1.0);
        assertEquals(wa * 0.75 + (1 - wa) * 0.5, p[0], 1e-12);
        assertTrue(wa > 0.5, "the confident teacher must weigh more, got " + wa);
    }

    @Test
    void givenSoftTargetKl_whenAveragingPerTeacherLosses_thenSameGradientAsAveragingProbabilities() {
        FixedTeacher a = fixed("a", new double[][] {{2.0, 0.5, -1.0}, {0.0, 0.0, 3.0}});
        FixedTeacher b = fixed("b", new double[][] {{-1.0, 1.0, 0.0}, {1.0, 2.0, 0.5}});
        INDArray student = Nd4j.create(new double[][] {{0.3, -0.2, 0.1}, {1.0, 0.4, -0.6}}).castTo(DataType.DOUBLE);
        SoftTargetKl kd = SoftTargetKl.withTemperature(4.0);
        LossResult la = kd.compute(LossInput.of(student).teacherLogits(a.fixed()).build());
        LossResult lb = kd.compute(LossInput.of(student).teacherLogits(b.fixed()).build());
        INDArray mean = MultiTeacher.builder().add(a).add(b).temperature(4.0).build().logits(BATCH);
        LossResult lm = kd.compute(LossInput.of(student).teacherLogits(mean).build());
        INDArray averaged = la.studentGradient().add(lb.studentGradient()).muli(0.5);
        assertArrayEquals(averaged.ravel().toDoubleVector(), lm.studentGradient().ravel().toDoubleVector(), 1e-12);
    }

    @Test
    void givenSequenceLogits_whenAveragingLogits_thenPerPositionAndShapeKept() {
        INDArray x = Nd4j.create(new double[] {1, 2, 3, 4, 5, 6}, new long[] {1, 2, 3}, DataType.DOUBLE);
        INDArray y = Nd4j.create(new double[] {3, 2, 1, 0, 1, 2}, new long[] {1, 2, 3}, DataType.DOUBLE);
        INDArray out = MultiTeacher.builder().add(new FixedTeacher(x, "x")).add(new FixedTeacher(y, "y"))
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOGITS).build().logits(BATCH);
        assertArrayEquals(new long[] {1, 2, 3}, out.shape());
        assertArrayEquals(new double[] {2, 2, 2, 2, 3, 4}, out.dup('c').data().asDouble(), 1e-12);
    }

    @Test
    void givenEnsembleOfTwoTrainedTeachers_whenDistilled_thenStudentLearns() {
        List<DataSet> train = Fixtures.blobs(512, 1);
        MultiTeacher ensemble = MultiTeacher.builder().add(Teacher.of(Fixtures.trainedTeacher(train)))
                .add(Teacher.of(Fixtures.trainedTeacher(Fixtures.blobs(512, 5)))).temperature(2.0).build();
        DistillationResult r = Distiller.builder().teacher(ensemble)
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(2).seed(3).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(Fixtures.blobs(256, 2), 64));
        assertTrue(acc > 0.8, "student of the ensemble, accuracy " + acc);
        assertTrue(r.report().teacher().startsWith("MultiTeacher(average_probabilities, temperature=2.0"),
                r.report().teacher());
    }

    @Test
    void givenBadSettings_whenBuilt_thenClearErrors() {
        FixedTeacher a = fixed("a", new double[][] {{1, 2}});
        assertEquals("a MultiTeacher needs at least one member teacher",
                assertThrows(IllegalArgumentException.class, () -> MultiTeacher.builder().build()).getMessage());
        assertEquals("weight of member teacher 1 must be >= 0 and finite, got -1.0", assertThrows(
                IllegalArgumentException.class, () -> MultiTeacher.builder().add(a).add(a, -1)).getMessage());
        assertEquals("temperature must be > 0 and finite, got 0.0", assertThrows(IllegalArgumentException.class,
                () -> MultiTeacher.builder().add(a).temperature(0).build()).getMessage());
        MultiTeacher mismatched = MultiTeacher.builder().add(a).add(fixed("b", new double[][] {{1, 2, 3}})).build();
        assertEquals("member teacher 1 produced logits of shape [1, 3] but member 0 produced [1, 2]",
                assertThrows(IllegalArgumentException.class, () -> mismatched.logits(BATCH)).getMessage());
    }

    @Test
    void givenAverageLosses_whenLogits_thenMembersSideBySideAndTheirWeightsAsBlockWeights() {
        FixedTeacher a = fixed("a", new double[][] {{2.0, 0.5}, {1.0, -1.0}});
        FixedTeacher b = fixed("b", new double[][] {{-1.0, 1.0}, {0.0, 3.0}});
        MultiTeacher m = MultiTeacher.builder().add(a, 1).add(b, 3).aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES)
                .build();
        assertArrayEquals(new double[][] {{2.0, 0.5, -1.0, 1.0}, {1.0, -1.0, 0.0, 3.0}}, m.logits(BATCH).toDoubleMatrix());
        assertArrayEquals(new double[] {0.25, 0.75}, m.blockWeights(), 0.0);
        assertArrayEquals(new double[] {1.0}, MultiTeacher.builder().add(a).add(b).build().blockWeights(), 0.0);
        // sequences: [1, 2, 3] members become [1, 4, 3], member m in rows 2m, 2m + 1 of dimension 1 at every step
        INDArray x = Nd4j.create(new double[] {1, 2, 3, 4, 5, 6}, new long[] {1, 2, 3}, DataType.DOUBLE);
        INDArray y = Nd4j.create(new double[] {3, 2, 1, 0, 1, 2}, new long[] {1, 2, 3}, DataType.DOUBLE);
        INDArray seq = MultiTeacher.builder().add(new FixedTeacher(x, "x")).add(new FixedTeacher(y, "y"))
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build().logits(BATCH);
        assertArrayEquals(new long[] {1, 4, 3}, seq.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 3, 2, 1, 0, 1, 2}, seq.dup('c').data().asDouble(), 0.0);
    }

    @Test
    void givenMemberNetworks_whenActivationsRequested_thenWeightedMeanOrStackedAndMismatchNamed() {
        Teacher a = Teacher.of(Fixtures.mlp(6, 1, 0.0));
        Teacher b = Teacher.of(Fixtures.mlp(6, 2, 0.0));
        TeacherBatch batch = new TeacherBatch(Fixtures.iterator(Fixtures.blobs(5, 3), 5).next().getFeatures(), null, 0);
        double[][] ha = a.activations(batch, List.of("0")).get("0").castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] hb = b.activations(batch, List.of("0")).get("0").castTo(DataType.DOUBLE).toDoubleMatrix();
        INDArray mean = MultiTeacher.builder().add(a, 1).add(b, 3).aggregation(MultiTeacher.Aggregation.AVERAGE_LOGITS)
                .build().activations(batch, List.of("0")).get("0");
        INDArray stacked = MultiTeacher.builder().add(a, 1).add(b, 3)
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build().activations(batch, List.of("0")).get("0");
        assertArrayEquals(new long[] {5, 12}, stacked.shape());
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 6; j++) {
                assertEquals(0.25 * ha[i][j] + 0.75 * hb[i][j], mean.getDouble(i, j), 1e-6);
                assertEquals(ha[i][j], stacked.getDouble(i, j), 0.0);
                assertEquals(hb[i][j], stacked.getDouble(i, 6 + j), 0.0);
            }
        }
        MultiTeacher mismatched = MultiTeacher.builder().add(a).add(Teacher.of(Fixtures.mlp(7, 2, 0.0))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mismatched.activations(batch, List.of("0")));
        assertEquals("member teacher 1's activation of layer '0' has shape [5, 7] but member 0's has [5, 6]; members' "
                + "tapped activations must have one shape", e.getMessage());
    }
}
