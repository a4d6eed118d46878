package io.kd4j.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Per-token top-k caches of sequence teachers ({@code [batch, classes, time]} with a {@code [batch, time]} mask). */
class SequenceTopKCacheTest {
    private static final int N = 20;
    private static final int F = 5;
    private static final int C = 30;
    private static final int T = 6;
    /** Valid steps of example i: T - (i % 4), a padded and masked tail. */
    private static final DataSet DATA = sequences(7);

    private static DataSet sequences(long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, N, F, T);
        INDArray y = Nd4j.zeros(DataType.FLOAT, N, C, T);
        INDArray m = Nd4j.zeros(DataType.FLOAT, N, T);
        for (int i = 0; i < N; i++) {
            for (int t = 0; t < T; t++) {
                for (int f = 0; f < F; f++) {
                    x.putScalar(new long[] {i, f, t}, (float) r.nextGaussian());
                }
                y.putScalar(new long[] {i, r.nextInt(C), t}, 1.0);
                m.putScalar(i, t, t < T - (i % 4) ? 1.0 : 0.0);
            }
        }
        return new DataSet(x, y, m, m);
    }

    private static long validSteps() {
        return (long) DATA.getLabelsMaskArray().sumNumber().doubleValue();
    }

    private static ViewIterator data(int batch) {
        return new ViewIterator(DATA, batch);
    }

    /** A fixed random per-step linear teacher: logits[b, :, t] = x[b, :, t] · W, W [5, 30]. */
    static Teacher stepTeacher(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.rand(DataType.FLOAT, F, C).subi(0.5).muli(6);
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                INDArray x = batch.features().castTo(DataType.FLOAT);
                long n = x.size(0);
                INDArray rows = x.permute(0, 2, 1).dup('c').reshape('c', n * T, F).mmul(w);
                return rows.reshape('c', n, T, C).permute(0, 2, 1).dup('c');
            }

            @Override
            public String describe() {
                return "step teacher " + seed;
            }

            @Override
            public String fingerprint() {
                return "step-" + seed;
            }
        };
    }

    @Test
    void givenSequenceTeacher_whenCached_thenEveryValidStepHoldsItsTopKAndMaskedStepsAreNotStored(@TempDir Path dir)
            throws IOException {
        Teacher teacher = stepTeacher(1);
        Path file = dir.resolve("seq.topk");
        String summary = TopKTeacherCache.write(teacher, data(8), file, new TopKCacheOptions(5, false, 2.0));
        assertTrue(summary.contains("20 sequences x 6 steps, " + validSteps() + " valid steps stored"), summary);
        try (CachedTopKTeacher c = TopKTeacherCache.open(file, teacher, 5, TopKTeacherCache.dataFingerprint(data(8)))) {
            assertEquals(T, c.time());
            assertEquals(validSteps(), c.tokens());
            // per stored step: 5 x 2 (uint16 index) + 5 x 4 (float32) + 4 (rest) = 34; per sequence: hash 8,
            // index entry 12, first record 8, step bits ceil(6 / 8) = 1
            assertEquals(4096 + validSteps() * 34 + N * (8 + 12 + 8 + 1), Files.size(file));
            assertEquals((validSteps() * 34 + N * 29) / (double) validSteps(), c.bytesPerToken(), 1e-12);
            INDArray x = DATA.getFeatures();
            INDArray mask = DATA.getLabelsMaskArray();
            TopKTeacher top = c.topK(new TeacherBatch(x, null, 0), mask);
            assertArrayEquals(new long[] {N, 5, T}, top.indices().shape());
            double[] logits = teacher.logits(new TeacherBatch(x, null, 0)).castTo(DataType.DOUBLE).dup('c').data()
                    .asDouble();
            long record = 0;
            for (int i = 0; i < N; i++) {
                for (int t = 0; t < T; t++) {
                    if (mask.getDouble(i, t) == 0) {
                        for (int j = 0; j < 5; j++) {
                            assertEquals(j, top.indices().getDouble(i, j, t), 0.0, "placeholder at a masked step");
                        }
                        continue;
                    }
                    // independent reference: the 5 largest logits of (i, t), log-softmax at T = 2
                    double[] row = new double[C];
                    for (int cl = 0; cl < C; cl++) {
                        row[cl] = logits[(i * C + cl) * T + t];
                    }
                    double max = Arrays.stream(row).max().orElseThrow() / 2;
                    double z = 0;
                    for (double v : row) {
                        z += Math.exp(v / 2 - max);
                    }
                    double lse = max + Math.log(z);
                    double[] sorted = row.clone();
                    Arrays.sort(sorted);
                    double fifth = sorted[C - 5];
                    double rest = 1;
                    for (int j = 0; j < 5; j++) {
                        int cl = (int) top.indices().getDouble(i, j, t);
                        assertTrue(row[cl] >= fifth, "class " + cl + " is in the top 5 of (" + i + ", " + t + ")");
                        assertEquals(row[cl] / 2 - lse, top.logProbs().getDouble(i, j, t), 1e-5);
                        rest -= Math.exp(row[cl] / 2 - lse);
                    }
                    assertEquals(Math.log(rest), c.logRestMass(record++), 1e-4 * Math.max(1, Math.abs(Math.log(rest))));
                }
            }
        }
    }

    @Test
    void givenShuffledBatchesAndAStepTheCacheDidNotStore_whenRead_thenFoundByHashOrRefused(@TempDir Path dir)
            throws IOException {
        Teacher teacher = stepTeacher(2);
        Path file = dir.resolve("seq.topk");
        TopKTeacherCache.write(teacher, data(8), file, TopKCacheOptions.of(4));
        try (CachedTopKTeacher c = CachedTopKTeacher.open(file, null, 0, null, 100)) { // 100-byte mapping windows
            TopKTeacher all = c.topK(new TeacherBatch(DATA.getFeatures(), null, 0), DATA.getLabelsMaskArray());
            int[] order = {13, 2, 19, 7};
            TopKTeacher got = c.topK(new TeacherBatch(pick(DATA.getFeatures(), order), null, 0),
                    pick(DATA.getLabelsMaskArray(), order));
            for (int p = 0; p < order.length; p++) {
                assertEquals(pick(all.indices(), order[p]), pick(got.indices(), p));
                assertEquals(pick(all.logProbs(), order[p]), pick(got.logProbs(), p));
            }
            // example 1 has 5 valid steps: asking for all 6 is an error naming the step
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.topK(
                    new TeacherBatch(pick(DATA.getFeatures(), 1), null, 1), Nd4j.ones(DataType.FLOAT, 1, T)));
            assertTrue(e.getMessage().startsWith("example at position 1, step 5 is valid in this batch but was masked "
                    + "when top-k teacher cache"), e.getMessage());
        }
    }

    @Test
    void givenDamagedOrMismatchedSequenceCaches_whenOpened_thenEachIsRefusedSayingWhy(@TempDir Path dir)
            throws IOException {
        Teacher teacher = stepTeacher(3);
        Path good = dir.resolve("good.topk");
        TopKTeacherCache.write(teacher, data(8), good, TopKCacheOptions.of(4));
        String dataFp = TopKTeacherCache.dataFingerprint(data(8));
        Path truncated = Files.copy(good, dir.resolve("truncated.topk"));
        try (RandomAccessFile f = new RandomAccessFile(truncated.toFile(), "rw")) {
            f.setLength(f.length() - 3); // inside the step bit sets
        }
        CacheFiles.assertTopKRefused(truncated, null, 0, null, "is truncated or corrupted");
        Path corrupt = Files.copy(good, dir.resolve("corrupt.topk"));
        CacheFiles.flipByte(corrupt, Files.size(good) - 2); // a step bit set
        CacheFiles.assertTopKRefused(corrupt, null, 0, null, "fails its checksum");
        Path badHeader = Files.copy(good, dir.resolve("header.topk"));
        CacheFiles.flipByte(badHeader, 30);
        CacheFiles.assertTopKRefused(badHeader, null, 0, null, "header checksum mismatch");
        Path version = Files.copy(good, dir.resolve("version.topk"));
        CacheFiles.flipByte(version, 11);
        CacheFiles.assertTopKRefused(version, null, 0, null, "has format version");
        CacheFiles.assertTopKRefused(good, stepTeacher(4), 0, null, "was built by teacher step-3, not by the given teacher step-4");
        CacheFiles.assertTopKRefused(good, teacher, 8, null, "holds k=4 classes per example, expected k=8");
        String other = TopKTeacherCache.dataFingerprint(new ViewIterator(sequences(8), 8));
        CacheFiles.assertTopKRefused(good, teacher, 4, other, "was built from data " + dataFp + ", not from the given data " + other);
    }

    @Test
    void givenSequenceCache_whenAttachedAndDistilledWithKEqualToClasses_thenSameStudentAsDenseOnlineKd(@TempDir Path dir)
            throws IOException {
        Teacher teacher = stepTeacher(5);
        Path file = dir.resolve("all.topk");
        // k = classes, stored at the loss temperature: SparseTopKKl is then exactly SoftTargetKl on these rows
        TopKTeacherCache.write(teacher, data(8), file, new TopKCacheOptions(C, false, 2.0));
        try (CachedTopKTeacher c = TopKTeacherCache.open(file, teacher, C, null)) {
            TeacherTargetIterator it = new TeacherTargetIterator(data(8), c, new TargetLayout(C, C));
            DataSet packed = it.next();
            assertArrayEquals(new long[] {8, C + 2 * C + 1, T}, packed.getLabels().shape());
            assertEquals(DATA.getLabelsMaskArray().getRow(1), packed.getLabelsMaskArray().getRow(1));
            INDArray online = distill(Distiller.builder().teacher(teacher)
                    .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)"));
            INDArray offline = distill(Distiller.builder().topKCache(c)
                    .objective("0.5*CrossEntropy + 0.5*SparseTopKKl(temperature=2.0)"));
            assertArrayEquals(online.toFloatVector(), offline.toFloatVector(), 1e-5f);
            // a [batch, classes] cache does not serve sequence labels
            Path flat = dir.resolve("flat.topk");
            TopKTeacherCache.write(TopKTeacherCacheTest.linearTeacher(1),
                    io.kd4j.core.Fixtures.iterator(io.kd4j.core.Fixtures.blobs(10, 1), 5), flat, TopKCacheOptions.of(3));
            try (CachedTopKTeacher f = TopKTeacherCache.open(flat)) {
                DataSet fortyClasses = new DataSet(Nd4j.rand(DataType.FLOAT, 2, F, T), Nd4j.zeros(DataType.FLOAT, 2, 40, T));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new TeacherTargetIterator(new ViewIterator(fortyClasses, 2), f, new TargetLayout(40, 3)).next());
                assertEquals("the top-k teacher cache holds [batch, classes] labels, got labels of shape [2, 40, 6]",
                        e.getMessage());
            }
        }
    }

    private static INDArray distill(Distiller.Builder b) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(11)
                .updater(new Adam(1e-2)).list()
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(F).nOut(C)
                        .dataFormat(org.deeplearning4j.nn.conf.RNNFormat.NCW).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return b.epochs(2).seed(3).build().distill(Student.of(net), data(8)).student().params();
    }

    /** The given rows (examples) of {@code a}, in that order, keeping the rank. */
    private static INDArray pick(INDArray a, int... rows) {
        INDArray[] parts = new INDArray[rows.length];
        for (int p = 0; p < rows.length; p++) {
            org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
            Arrays.fill(idx, org.nd4j.linalg.indexing.NDArrayIndex.all());
            idx[0] = org.nd4j.linalg.indexing.NDArrayIndex.interval(rows[p], rows[p] + 1);
            parts[p] = a.get(idx).dup();
        }
        return Nd4j.concat(0, parts);
    }
}
