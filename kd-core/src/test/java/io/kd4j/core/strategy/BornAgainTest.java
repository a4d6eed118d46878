package io.kd4j.core.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class BornAgainTest {

    @Test
    void givenTwoGenerations_whenRun_thenEachGenerationIsTaughtByThePreviousStudent() {
        List<DataSet> train = Fixtures.blobs(512, 1);
        Teacher first = Teacher.of(Fixtures.trainedTeacher(train));
        List<Integer> generationsAsked = new ArrayList<>();
        BornAgain.Result r = BornAgain.of(
                teacher -> Distiller.builder().teacher(teacher)
                        .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(2).seed(3).build(),
                g -> {
                    generationsAsked.add(g);
                    return Student.of(Fixtures.mlp(16, 10 + g, 0.0));
                }).run(first, 2, Fixtures.iterator(train, 32));
        assertEquals(List.of(1, 2), generationsAsked);
        assertEquals(2, r.generations().size());
        assertEquals(first.describe(), r.generations().get(0).report().teacher());
        // generation 2's teacher is generation 1's student: same fingerprint
        String gen1 = Teacher.of((org.deeplearning4j.nn.multilayer.MultiLayerNetwork) r.generations().get(0).student())
                .fingerprint();
        assertTrue(r.generations().get(1).report().teacher().contains(gen1), r.generations().get(1).report().teacher());
        double acc = Metrics.accuracy(r.last().student(), Fixtures.iterator(Fixtures.blobs(256, 2), 64));
        assertTrue(acc > 0.8, "generation 2 accuracy " + acc);
        MultiTeacher ensemble = r.ensemble(MultiTeacher.Aggregation.AVERAGE_PROBABILITIES, 1.0);
        assertEquals(2, ensemble.members().size());
    }

    @Test
    void givenZeroGenerations_whenRun_thenClearError() {
        BornAgain b = BornAgain.of(t -> null, g -> null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.run(Teacher.of(Fixtures.mlp(4, 1, 0.0)), 0, Fixtures.iterator(Fixtures.blobs(8, 1), 4)));
        assertEquals("generations must be >= 1, got 0", e.getMessage());
    }
}
