package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.ComputedLogits;
import io.kd4j.core.cache.ParallelTeacherCache;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class ParallelTeacherCacheTest {
    static List<DataSet> train;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(509, 11); // 509 = 10 batches of 50 + a last batch of 9
        teacherNet = Fixtures.trainedTeacher(train);
    }

    private static List<Teacher> copies(int n) {
        List<Teacher> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Teacher.of(teacherNet));
        }
        return out;
    }

    @Test
    void givenThreeTeacherCopies_whenCacheBuiltInParallel_thenSameFileAsSequentialBuild(@TempDir Path dir)
            throws Exception {
        // Given the sequential cache of the same data, same batching
        Path sequential = dir.resolve("sequential.kdc");
        Path parallel = dir.resolve("parallel.kdc");
        TeacherCache.write(Teacher.of(teacherNet), Fixtures.iterator(train, 50), sequential);
        // When the cache is built by three teacher copies on three threads
        ParallelTeacherCache.write(copies(3), Fixtures.iterator(train, 50), parallel);
        // Then the files are byte for byte the same (header, logits, hashes, index, checksum)
        assertArrayEquals(Files.readAllBytes(sequential), Files.readAllBytes(parallel));
        // and the cached logits are the teacher's: softmax(cached logits) = the teacher network's output,
        // row by row, in data order
        CachedTeacher cached = TeacherCache.open(parallel, Teacher.of(teacherNet));
        assertEquals(509, cached.examples());
        INDArray x = DataSet.merge(train).getFeatures();
        INDArray logits = cached.logits(new TeacherBatch(x, null, 0));
        INDArray probabilities = Nd4j.nn().softmax(logits, 1);
        assertArrayEquals(teacherNet.output(x, false).ravel().toFloatVector(), probabilities.ravel().toFloatVector(), 1e-5f);
    }

    @Test
    void givenShuffledBatchesFromElsewhere_whenWrittenComputed_thenCacheFindsEveryExample(@TempDir Path dir)
            throws Exception {
        // Given logits computed "elsewhere" for the examples in reversed order, one example per batch
        List<DataSet> reversed = new ArrayList<>(train);
        Collections.reverse(reversed);
        List<ComputedLogits> batches = new ArrayList<>();
        Teacher teacher = Teacher.of(teacherNet);
        for (DataSet d : reversed) {
            batches.add(new ComputedLogits(d.getFeatures(), null, teacher.logits(new TeacherBatch(d.getFeatures(), null, 0))));
        }
        Path file = dir.resolve("computed.kdc");
        // When written as precomputed batches
        ParallelTeacherCache.writeComputed(batches.iterator(), teacher.fingerprint(), teacher.describe(), file);
        // Then the cache is accepted for that teacher and returns, for the examples in training order, exactly
        // the logits that were given for them (the reversed list read backwards)
        CachedTeacher cached = TeacherCache.open(file, Teacher.of(teacherNet));
        List<INDArray> expected = new ArrayList<>();
        for (int i = batches.size() - 1; i >= 0; i--) {
            expected.add(batches.get(i).logits());
        }
        INDArray x = DataSet.merge(train).getFeatures();
        assertArrayEquals(Nd4j.vstack(expected).ravel().toFloatVector(),
                cached.logits(new TeacherBatch(x, null, 0)).ravel().toFloatVector(), 0f);
    }

    @Test
    void givenFailingTeacher_whenBuildingInParallel_thenItsErrorSurfacesAndNoCacheIsLeft(@TempDir Path dir) {
        // Given two copies that fail from example 200 on
        List<Teacher> failing = List.of(new Failing(200), new Failing(200));
        Path file = dir.resolve("failed.kdc");
        // When building, then the teacher's own error arrives on the caller's thread
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParallelTeacherCache.write(failing, Fixtures.iterator(train, 50), file));
        assertEquals("teacher failed at example 200", e.getMessage());
        assertFalse(Files.exists(file), "a failed build must not leave a cache under the final name");
    }

    @Test
    void givenBadCopies_whenBuilding_thenErrorsNameTheRuleAndTheValues(@TempDir Path dir) {
        Path file = dir.resolve("bad.kdc");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> ParallelTeacherCache.write(List.of(), Fixtures.iterator(train, 50), file));
        assertEquals("copies must hold at least one teacher, got 0", empty.getMessage());

        Teacher one = Teacher.of(teacherNet);
        IllegalArgumentException same = assertThrows(IllegalArgumentException.class,
                () -> ParallelTeacherCache.write(List.of(one, one), Fixtures.iterator(train, 50), file));
        assertTrue(same.getMessage().contains("copies[0] and copies[1] are the same object"), same.getMessage());

        Teacher other = Teacher.of(Fixtures.mlp(32, 8, 0.0));
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> ParallelTeacherCache.write(List.of(one, other), Fixtures.iterator(train, 50), file));
        assertEquals("teacher copies must be copies of one teacher, but copies[0] has fingerprint " + one.fingerprint()
                + " and copies[1] has " + other.fingerprint(), mixed.getMessage());

        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
                () -> ParallelTeacherCache.writeComputed(List.<ComputedLogits>of().iterator(), " ", "x", file));
        assertEquals("teacherFingerprint must not be blank", blank.getMessage());

        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new ComputedLogits(Nd4j.zeros(3, 12), null, Nd4j.zeros(2, 4)));
        assertEquals("logits must be [batch=3, classes], got [2, 4]", shape.getMessage());

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> ParallelTeacherCache.write(copies(2), Fixtures.iterator(List.of(), 50), file));
        assertEquals("cannot build a teacher cache from an empty data iterator", none.getMessage());
        assertFalse(Files.exists(file));
    }

    /** A teacher that fails once it reaches a given example. */
    private static final class Failing implements Teacher {
        private final long failAt;

        Failing(long failAt) {
            this.failAt = failAt;
        }

        @Override
        public INDArray logits(TeacherBatch batch) {
            if (batch.firstExample() + batch.size() > failAt) {
                throw new IllegalStateException("teacher failed at example " + failAt);
            }
            return Nd4j.zeros(batch.size(), Fixtures.CLASSES);
        }

        @Override
        public String describe() {
            return "failing teacher";
        }

        @Override
        public String fingerprint() {
            return "failing";
        }
    }
}
