package io.kd4j.examples.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The example's task teachers: the Gaussian ensemble and the ranking pair scorer. */
class TaskTeachersTest {

    /** A teacher whose logits are a function of the features. */
    static Teacher teacher(String name, Function<INDArray, INDArray> logits) {
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                return logits.apply(batch.features());
            }

            @Override
            public String describe() {
                return name;
            }

            @Override
            public String fingerprint() {
                return name;
            }
        };
    }

    static Teacher fixed(String name, double... row) {
        return teacher(name, x -> Nd4j.create(row, new long[] {1, row.length}, DataType.DOUBLE));
    }

    @Test
    void givenTwoMeanVarianceMembers_whenEnsembled_thenMixtureMeanAndVariance() {
        // members N(1, 1) and N(3, 4): mean 2, variance ((1 + (1-2)^2) + (4 + (3-2)^2)) / 2 = 3.5
        GaussianEnsembleTeacher e = GaussianEnsembleTeacher.of(List.of(fixed("a", 1, 0), fixed("b", 3, Math.log(4))));
        INDArray block = e.logits(new TeacherBatch(Nd4j.zeros(1, 1), null, 0));
        assertEquals(2.0, block.getDouble(0, 0), 1e-6);
        assertEquals(3.5, block.getDouble(0, 1), 1e-6);
        INDArray mean = e.meanOnly().logits(new TeacherBatch(Nd4j.zeros(1, 1), null, 0));
        assertEquals(1, mean.size(1));
        assertEquals(2.0, mean.getDouble(0, 0), 1e-6);
    }

    @Test
    void givenBadMembers_whenEnsembled_thenErrorsNameTheShapes() {
        TeacherBatch b = new TeacherBatch(Nd4j.zeros(1, 1), null, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GaussianEnsembleTeacher.of(List.of(fixed("a", 1, 0, 2))).logits(b));
        assertEquals("members must output [mean | log-variance] (an even width), got 3 columns", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GaussianEnsembleTeacher.of(List.of(fixed("a", 1, 0), fixed("b", 1, 0, 2, 0))).logits(b));
        assertEquals("members produced different shapes: [1, 4] and [1, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GaussianEnsembleTeacher.of(List.of()));
        assertEquals("a Gaussian ensemble needs at least one member", e.getMessage());
    }

    @Test
    void givenAClassifier_whenPairsScored_thenLogOfTheSameClassProbability() {
        // the classifier's logits are the image's 3 pixels
        PairScoreTeacher t = new PairScoreTeacher(teacher("pixels", x -> x.dup()), 3);
        // query logits [0, ln 2, 0]: p = [1/4, 1/2, 1/4]; candidate 0 logits [ln 2, 0, 0]: p = [1/2, 1/4, 1/4];
        // candidate 1 = the query's image
        double ln2 = Math.log(2);
        double[][] columns = {{0, ln2, 0, ln2, 0, 0}, {0, ln2, 0, 0, ln2, 0}};
        INDArray features = Nd4j.zeros(DataType.DOUBLE, 1, 6, 1, 2);
        for (int k = 0; k < 2; k++) {
            for (int ch = 0; ch < 6; ch++) {
                features.putScalar(new long[] {0, ch, 0, k}, columns[k][ch]);
            }
        }
        INDArray scores = t.logits(new TeacherBatch(features, null, 0));
        // candidate 0: 1/8 + 1/8 + 1/16 = 0.3125; candidate 1: 1/16 + 1/4 + 1/16 = 0.375
        assertEquals(Math.log(0.3125), scores.getDouble(0, 0), 1e-9);
        assertEquals(Math.log(0.375), scores.getDouble(0, 1), 1e-9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.logits(new TeacherBatch(Nd4j.zeros(1, 6), null, 0)));
        assertEquals("ranking features must be [lists, 6, 1, candidates], got [1, 6]", e.getMessage());
    }
}
