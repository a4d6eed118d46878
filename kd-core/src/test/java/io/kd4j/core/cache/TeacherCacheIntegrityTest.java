package io.kd4j.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** The dense teacher cache refuses truncated, corrupted and mismatched files, and never a wrong row. */
class TeacherCacheIntegrityTest {
    static List<DataSet> data;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        data = Fixtures.blobs(96, 1);
        teacherNet = Fixtures.trainedTeacher(data);
    }

    private static Path build(Path dir) throws IOException {
        Path file = dir.resolve("t.kdc");
        TeacherCache.write(Teacher.of(teacherNet), Fixtures.iterator(data, 32), file);
        return file;
    }

    @Test
    void givenIntactCache_whenOpened_thenReturnsTheTeachersLogitsForShuffledExamples(@TempDir Path dir) throws IOException {
        CachedTeacher cached = TeacherCache.open(build(dir), Teacher.of(teacherNet));
        assertEquals(96, cached.examples());
        // examples 40..49 presented at position 0: found through the hash index, not by position
        INDArray x = Fixtures.iterator(data.subList(40, 50), 10).next().getFeatures();
        INDArray expected = Teacher.of(teacherNet).logits(new TeacherBatch(x, null, 0));
        assertTrue(expected.equalsWithEps(cached.logits(new TeacherBatch(x, null, 0)), 1e-6));
    }

    @Test
    void givenTruncatedCache_whenOpened_thenRefused(@TempDir Path dir) throws IOException {
        Path file = build(dir);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        IOException e = assertThrows(IOException.class, () -> TeacherCache.open(file));
        assertTrue(e.getMessage().contains("truncated or corrupted"), e.getMessage());
    }

    @Test
    void givenFlippedPayloadByte_whenOpened_thenChecksumRefusesIt(@TempDir Path dir) throws IOException {
        Path file = build(dir);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(4096 + 17);
            int b = f.read();
            f.seek(4096 + 17);
            f.write(b ^ 0x40);
        }
        IOException e = assertThrows(IOException.class, () -> TeacherCache.open(file));
        assertTrue(e.getMessage().contains("fails its checksum"), e.getMessage());
    }

    @Test
    void givenACacheKeyedByAnotherFeatureHash_whenOpened_thenRefusedSayingToRebuildIt(@TempDir Path dir)
            throws IOException {
        // Given a cache whose header lacks keys=xxh64 (as an earlier kd4j wrote it, with FNV-1a keys)
        Path file = build(dir);
        CacheFiles.rewriteDenseHeader(file, text -> text.replace("keys=xxh64\n", ""));
        // When opened, Then refused: its rows could not be found by this kd4j's keys
        IOException e = assertThrows(IOException.class, () -> TeacherCache.open(file));
        assertTrue(e.getMessage().contains("keys its examples by FNV-1a feature hashes (written by an earlier kd4j); "
                + "this kd4j keys them by xxh64: rebuild the cache"), e.getMessage());
        // And a cache naming another key function is refused too
        Path other = build(Files.createDirectories(dir.resolve("other")));
        CacheFiles.rewriteDenseHeader(other, text -> text.replace("keys=xxh64", "keys=murmur3"));
        IOException f = assertThrows(IOException.class, () -> TeacherCache.open(other));
        assertTrue(f.getMessage().contains("keys its examples by 'murmur3'"), f.getMessage());
    }

    @Test
    void givenOtherTeacher_whenOpenedForIt_thenRefused(@TempDir Path dir) throws IOException {
        Path file = build(dir);
        Teacher other = Teacher.of(Fixtures.mlp(32, 99, 0.0));
        IOException e = assertThrows(IOException.class, () -> TeacherCache.open(file, other));
        assertTrue(e.getMessage().contains("was built by teacher"), e.getMessage());
    }

    @Test
    void givenOtherData_whenLookedUp_thenErrorNotAWrongRow(@TempDir Path dir) throws IOException {
        CachedTeacher cached = TeacherCache.open(build(dir));
        INDArray unseen = Fixtures.iterator(Fixtures.blobs(4, 77), 4).next().getFeatures();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> cached.logits(new TeacherBatch(unseen, null, 0)));
        assertTrue(e.getMessage().contains("the cache was built for other data"), e.getMessage());
    }

    @Test
    void givenTeacherFailingMidway_whenWriting_thenNoFileOrTemporaryIsLeft(@TempDir Path dir) throws IOException {
        Teacher real = Teacher.of(teacherNet);
        Teacher failing = new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                if (batch.firstExample() > 0) {
                    throw new IllegalStateException("teacher crashed");
                }
                return real.logits(batch);
            }

            @Override
            public String describe() {
                return "failing";
            }

            @Override
            public String fingerprint() {
                return "failing";
            }
        };
        Path file = dir.resolve("t.kdc");
        assertThrows(IllegalStateException.class, () -> TeacherCache.write(failing, Fixtures.iterator(data, 32), file));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList());
        }
    }
}
