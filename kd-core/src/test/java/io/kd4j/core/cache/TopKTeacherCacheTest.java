package io.kd4j.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class TopKTeacherCacheTest {
    private static final int CLASSES = 40;
    private static final List<DataSet> DATA = Fixtures.blobs(50, 11);

    /** A fixed random linear teacher: 12 features -> 40 logits (no training needed). */
    static Teacher linearTeacher(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.rand(DataType.FLOAT, Fixtures.FEATURES, CLASSES).subi(0.5).muli(4);
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                return batch.features().castTo(DataType.FLOAT).mmul(w);
            }

            @Override
            public String describe() {
                return "linear teacher " + seed;
            }

            @Override
            public String fingerprint() {
                return "linear-" + seed;
            }
        };
    }

    private static InMemoryDataSetIterator data(int batch) {
        return Fixtures.iterator(DATA, batch);
    }

    @Test
    void givenATeacher_whenTopKIsCached_thenEachExampleHoldsItsTopKLogSoftmaxAndRestMass(@TempDir Path dir)
            throws IOException {
        Teacher teacher = linearTeacher(1);
        Path file = dir.resolve("t.topk");
        TopKTeacherCache.write(teacher, data(16), file, new TopKCacheOptions(5, false, 2.0));
        try (CachedTopKTeacher c = TopKTeacherCache.open(file, teacher, 5, TopKTeacherCache.dataFingerprint(data(7)))) {
            assertEquals(50, c.examples());
            assertEquals(2.0, c.temperature());
            for (int i = 0; i < DATA.size(); i += 7) {
                INDArray x = DATA.get(i).getFeatures();
                double[] logits = teacher.logits(new TeacherBatch(x, null, 0)).castTo(DataType.DOUBLE).data().asDouble();
                // independent reference: sort classes by logit, log-softmax at T = 2
                Integer[] order = new Integer[CLASSES];
                for (int j = 0; j < CLASSES; j++) {
                    order[j] = j;
                }
                java.util.Arrays.sort(order, (a, b) -> Double.compare(logits[b], logits[a]));
                double max = logits[order[0]] / 2;
                double z = 0;
                for (double v : logits) {
                    z += Math.exp(v / 2 - max);
                }
                double lse = max + Math.log(z);
                TopKTeacher top = c.topK(new TeacherBatch(x, null, i));
                List<Integer> got = new ArrayList<>();
                double rest = 1;
                for (int j = 0; j < 5; j++) {
                    int idx = (int) top.indices().getDouble(0, j);
                    got.add(idx);
                    assertEquals(logits[idx] / 2 - lse, top.logProbs().getDouble(0, j), 1e-5, "log-prob of " + idx);
                    rest -= Math.exp(logits[idx] / 2 - lse);
                }
                Collections.sort(got);
                List<Integer> want = new ArrayList<>(List.of(order).subList(0, 5));
                Collections.sort(want);
                assertEquals(want, got, "top-5 classes of example " + i);
                assertEquals(Math.log(rest), c.logRestMass(i), 1e-4 * Math.max(1, Math.abs(Math.log(rest))));
            }
        }
    }

    @Test
    void givenK32Of40Classes_whenCached_thenBytesPerExampleAreIndicesValuesRestHashAndIndexEntry(@TempDir Path dir)
            throws IOException {
        Path f32 = dir.resolve("a.topk");
        Path f16 = dir.resolve("b.topk");
        Teacher teacher = linearTeacher(1);
        TopKTeacherCache.write(teacher, data(16), f32, TopKCacheOptions.of(32));
        TopKTeacherCache.write(teacher, data(16), f16, TopKCacheOptions.of(32).withFloat16());
        // float32: 32 x 2 (uint16 index) + 32 x 4 (value) + 4 (rest) + 8 (hash) + 12 (index entry) = 216 <= 8k + 16
        assertEquals(216, TopKTeacherCache.open(f32).bytesPerExample());
        assertEquals(4096 + 50 * 216, Files.size(f32));
        // float16: 32 x 2 + 32 x 2 + 4 + 8 + 12 = 152
        assertEquals(152, TopKTeacherCache.open(f16).bytesPerExample());
        assertEquals(4096 + 50 * 152, Files.size(f16));
    }

    @Test
    void givenFloat16Values_whenRead_thenWithinHalfPrecisionAndNeverAboveTheFloat32Value(@TempDir Path dir)
            throws IOException {
        Teacher teacher = linearTeacher(2);
        Path f32 = dir.resolve("a.topk");
        Path f16 = dir.resolve("b.topk");
        TopKTeacherCache.write(teacher, data(16), f32, TopKCacheOptions.of(8));
        TopKTeacherCache.write(teacher, data(16), f16, TopKCacheOptions.of(8).withFloat16());
        try (CachedTopKTeacher a = TopKTeacherCache.open(f32); CachedTopKTeacher b = TopKTeacherCache.open(f16)) {
            assertTrue(b.float16());
            INDArray x = Nd4j.vstack(DATA.get(0).getFeatures(), DATA.get(1).getFeatures());
            TopKTeacher ta = a.topK(new TeacherBatch(x, null, 0));
            TopKTeacher tb = b.topK(new TeacherBatch(x, null, 0));
            assertEquals(ta.indices(), tb.indices());
            float[] va = ta.logProbs().data().asFloat();
            float[] vb = tb.logProbs().data().asFloat();
            for (int i = 0; i < va.length; i++) {
                // binary16 has 11 significant bits: relative step 2^-10
                assertEquals(va[i], vb[i], Math.abs(va[i]) * 0x1p-10 + 1e-7, "value " + i);
                assertTrue(vb[i] <= va[i], "float16 rounds toward -inf: " + vb[i] + " > " + va[i]);
            }
        }
    }

    @Test
    void givenShuffledDataAndTinyMappingWindows_whenRead_thenEveryExampleIsFoundByHash(@TempDir Path dir)
            throws IOException {
        Teacher teacher = linearTeacher(3);
        Path big = dir.resolve("big.topk");
        Path small = dir.resolve("small.topk");
        TopKTeacherCache.write(teacher, data(16), big, TopKCacheOptions.of(6));
        // 100-byte windows: every record, hash and index entry crosses windows; the index sort too
        TopKTeacherCache.write(teacher, data(16), small, TopKCacheOptions.of(6), 100);
        assertArrayEquals(Files.readAllBytes(big), Files.readAllBytes(small));
        List<DataSet> shuffled = new ArrayList<>(DATA);
        Collections.shuffle(shuffled, new Random(5));
        try (CachedTopKTeacher c = CachedTopKTeacher.open(small, null, 0, null, 100);
             CachedTopKTeacher ref = TopKTeacherCache.open(big)) {
            for (int i = 0; i < shuffled.size(); i++) {
                INDArray x = shuffled.get(i).getFeatures();
                TopKTeacher got = c.topK(new TeacherBatch(x, null, i));
                int original = DATA.indexOf(shuffled.get(i));
                TopKTeacher want = ref.topK(new TeacherBatch(x, null, original));
                assertEquals(want.indices(), got.indices());
                assertEquals(want.logProbs(), got.logProbs());
            }
            INDArray stranger = Nd4j.ones(DataType.FLOAT, 1, Fixtures.FEATURES).muli(99);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> c.topK(new TeacherBatch(stranger, null, 0)));
            assertTrue(e.getMessage().contains("is not in top-k teacher cache"), e.getMessage());
        }
    }

    @Test
    void givenDamagedOrMismatchedCaches_whenOpened_thenEachIsRefusedSayingWhy(@TempDir Path dir) throws IOException {
        Teacher teacher = linearTeacher(4);
        Path good = dir.resolve("good.topk");
        TopKTeacherCache.write(teacher, data(16), good, TopKCacheOptions.of(4));
        String dataFp = TopKTeacherCache.dataFingerprint(data(16));

        Path truncated = Files.copy(good, dir.resolve("truncated.topk"));
        try (RandomAccessFile f = new RandomAccessFile(truncated.toFile(), "rw")) {
            f.setLength(f.length() - 12);
        }
        CacheFiles.assertTopKRefused(truncated, null, 0, null, "is truncated or corrupted");

        Path corrupt = Files.copy(good, dir.resolve("corrupt.topk"));
        CacheFiles.flipByte(corrupt, 4096 + 30);
        CacheFiles.assertTopKRefused(corrupt, null, 0, null, "fails its checksum");

        Path badHeader = Files.copy(good, dir.resolve("header.topk"));
        CacheFiles.flipByte(badHeader, 30); // inside the key=value text
        CacheFiles.assertTopKRefused(badHeader, null, 0, null, "header checksum mismatch");

        Path version = Files.copy(good, dir.resolve("version.topk"));
        CacheFiles.flipByte(version, 11);
        CacheFiles.assertTopKRefused(version, null, 0, null, "has format version");

        Path fnv = Files.copy(good, dir.resolve("fnv.topk"));
        CacheFiles.rewriteTopKHeader(fnv, text -> text.replace("keys=xxh64\n", ""));
        CacheFiles.assertTopKRefused(fnv, null, 0, null, "keys its examples by FNV-1a feature hashes (written by an earlier kd4j); "
                + "this kd4j keys them by xxh64: rebuild the cache");
        Path otherKeys = Files.copy(good, dir.resolve("keys.topk"));
        CacheFiles.rewriteTopKHeader(otherKeys, text -> text.replace("keys=xxh64", "keys=murmur3"));
        CacheFiles.assertTopKRefused(otherKeys, null, 0, null, "keys its examples by 'murmur3'");

        CacheFiles.assertTopKRefused(good, linearTeacher(5), 0, null, "was built by teacher linear-4, not by the given teacher linear-5");
        CacheFiles.assertTopKRefused(good, teacher, 8, null, "holds k=4 classes per example, expected k=8");
        String otherData = TopKTeacherCache.dataFingerprint(Fixtures.iterator(Fixtures.blobs(50, 12), 16));
        CacheFiles.assertTopKRefused(good, teacher, 4, otherData, "was built from data " + dataFp + ", not from the given data "
                + otherData);
        try (CachedTopKTeacher ok = TopKTeacherCache.open(good, teacher, 4, dataFp)) {
            assertEquals(4, ok.k());
        }
    }

    @Test
    void givenATopKCache_whenAttachedToBatches_thenLabelsArePackedInTheTopKLayout(@TempDir Path dir)
            throws IOException {
        Teacher teacher = linearTeacher(6);
        Path file = dir.resolve("t.topk");
        TopKTeacherCache.write(teacher, data(16), file, TopKCacheOptions.of(3));
        List<DataSet> fortyClass = new ArrayList<>();
        for (DataSet d : DATA.subList(0, 10)) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, 1, CLASSES);
            y.putScalar(0, 7, 1.0);
            fortyClass.add(new DataSet(d.getFeatures(), y));
        }
        try (CachedTopKTeacher c = TopKTeacherCache.open(file)) {
            TeacherTargetIterator it = new TeacherTargetIterator(Fixtures.iterator(fortyClass, 4), c,
                    new TargetLayout(CLASSES, 3));
            it.setEpoch(2);
            DataSet first = it.next();
            INDArray packed = first.getLabels();
            assertArrayEquals(new long[] {4, CLASSES + 6 + 1}, packed.shape());
            TopKTeacher top = c.topK(new TeacherBatch(first.getFeatures(), null, 0));
            assertEquals(1.0, packed.getDouble(0, 7));
            for (int j = 0; j < 3; j++) {
                assertEquals(top.indices().getDouble(2, j), packed.getDouble(2, CLASSES + j));
                assertEquals(top.logProbs().getDouble(2, j), packed.getDouble(2, CLASSES + 3 + j), 1e-7);
            }
            assertEquals(2.0, packed.getDouble(3, CLASSES + 6));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new TeacherTargetIterator(Fixtures.iterator(fortyClass, 4), c, new TargetLayout(CLASSES, 4)));
            assertTrue(e.getMessage().contains("must match the top-k cache (classes=40, k=3)"), e.getMessage());
        }
    }
}
