package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The whole distillation path (teacher attachment, packed labels, identity output, the DL4J adapter,
 * DL4J's fit) with a CrossEntropy-only objective trains exactly like plain DL4J softmax + MCXENT.
 */
class PlainEquivalenceTest {

    @Test
    void givenCrossEntropyOnlyObjective_whenDistilled_thenSameStudentAsPlainDl4jTraining() {
        List<DataSet> train = Fixtures.blobs(384, 3);
        MultiLayerNetwork teacher = Fixtures.trainedTeacher(train);
        MultiLayerNetwork plain = Fixtures.mlp(8, 5, 0.0);
        for (int e = 0; e < 2; e++) {
            plain.fit(Fixtures.iterator(train, 32));
        }
        MultiLayerNetwork distilled = (MultiLayerNetwork) Distiller.builder().teacher(Teacher.of(teacher))
                .objective("CrossEntropy").epochs(2).seed(1).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)).student();
        assertArrayEquals(plain.params().toFloatVector(), distilled.params().toFloatVector(), 1e-5f);
    }
}
