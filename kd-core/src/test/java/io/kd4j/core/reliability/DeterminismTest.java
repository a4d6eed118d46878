package io.kd4j.core.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.kd4j.core.Fixtures;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Same seed, data and configuration give the same student, bit for bit (tolerance 0), on one machine
 * with the same ND4J backend and thread settings; a different seed changes the dropout masks and so
 * the student (which shows that the seed is what makes the runs equal).
 */
class DeterminismTest {

    @Test
    void givenSameSeedDataAndConfiguration_whenDistilledTwice_thenIdenticalStudents() {
        List<DataSet> data = RunFixtures.data();
        Teacher teacher = Teacher.of(Fixtures.trainedTeacher(data));
        double[] a = run(teacher, data, 3);
        double[] b = run(teacher, data, 3);
        double[] other = run(teacher, data, 4);
        assertArrayEquals(a, b, 0.0);
        assertFalse(Arrays.equals(a, other), "a different seed must give different dropout masks");
    }

    private static double[] run(Teacher teacher, List<DataSet> data, long seed) {
        return RunFixtures.distiller(teacher, seed).build().distill(Student.of(RunFixtures.student()),
                RunFixtures.shuffled(data)).student().params().toDoubleVector();
    }
}
