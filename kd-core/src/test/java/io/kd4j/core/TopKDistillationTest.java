package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.cache.TopKCacheOptions;
import io.kd4j.core.cache.TopKTeacherCache;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Distillation from a top-k teacher cache through Distiller's builder option. */
class TopKDistillationTest {

    @Test
    void givenATopKCacheWithKEqualToClasses_whenDistilledWithSparseKl_thenSameStudentAsDenseKdOnline(@TempDir Path dir)
            throws Exception {
        // SparseTopKKl with k = classes and lp = log_softmax(t / T) is exactly SoftTargetKl (its Javadoc);
        // so the cached sparse run and the online dense run must train the same student
        List<DataSet> train = Fixtures.blobs(192, 3);
        MultiLayerNetwork teacherNet = Fixtures.trainedTeacher(train);
        Path file = dir.resolve("teacher.topk");
        TopKTeacherCache.write(Teacher.of(teacherNet), Fixtures.iterator(train, 64), file,
                TopKCacheOptions.of(Fixtures.CLASSES));
        INDArray dense = Distiller.builder().teacher(Teacher.of(teacherNet))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=1.0)").epochs(2).seed(1).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)).student().params();
        try (CachedTopKTeacher cache = TopKTeacherCache.open(file, Teacher.of(teacherNet), Fixtures.CLASSES, null)) {
            DistillationResult sparse = Distiller.builder().topKCache(cache)
                    .objective("0.5*CrossEntropy + 0.5*SparseTopKKl(temperature=1.0)").epochs(2).seed(1).build()
                    .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
            INDArray p = sparse.student().params();
            assertEquals(0.0, dense.sub(p).norm1Number().doubleValue() / p.length(), 1e-5,
                    "mean |parameter difference|");
            assertTrue(sparse.report().teacher().contains("top-k teacher cache"), sparse.report().teacher());
        }
    }
}
