package io.kd4j.core.teacher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class MemoizedTeacherTest {

    /** Counts how many examples the wrapped teacher computed. */
    private static final class Counting implements Teacher {
        final Teacher inner;
        int logitExamples;
        int activationExamples;

        Counting(Teacher inner) {
            this.inner = inner;
        }

        @Override
        public INDArray logits(TeacherBatch batch) {
            logitExamples += batch.size();
            return inner.logits(batch);
        }

        @Override
        public Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
            activationExamples += batch.size();
            return inner.activations(batch, layers);
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public String fingerprint() {
            return inner.fingerprint();
        }
    }

    private static INDArray rows(List<DataSet> data, List<Integer> idx) {
        INDArray[] r = idx.stream().map(i -> data.get(i).getFeatures()).toArray(INDArray[]::new);
        return Nd4j.vstack(r);
    }

    @Test
    void givenTwoEpochsInDifferentOrders_whenMemoized_thenSecondEpochIsServedFromMemoryWithTheTeachersOwnOutputs() {
        // Given a trained teacher and 40 examples, batches of 8, reshuffled in the second epoch
        List<DataSet> data = Fixtures.blobs(40, 3);
        Teacher plain = Teacher.of(Fixtures.trainedTeacher(data));
        Counting counting = new Counting(plain);
        MemoizedTeacher memo = MemoizedTeacher.of(counting);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            order.add(i);
        }
        List<String> layers = List.of("0");
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int b = 0; b < 40; b += 8) {
                INDArray x = rows(data, order.subList(b, b + 8));
                TeacherBatch batch = new TeacherBatch(x, null, b);
                // When
                INDArray logits = memo.logits(batch);
                INDArray act = memo.activations(batch, layers).get("0");
                // Then every output equals the wrapped teacher's for the same examples
                assertEquals(plain.logits(batch), logits);
                assertEquals(plain.activations(batch, layers).get("0"), act);
            }
            Collections.shuffle(order, new Random(7));
        }
        // and the wrapped teacher ran only in the first epoch: 40 examples each
        assertEquals(40, counting.logitExamples);
        assertEquals(40, counting.activationExamples);
        // 40 x (4 logits + hidden activations) floats
        long hidden = plain.activations(new TeacherBatch(rows(data, List.of(0)), null, 0), layers).get("0").length();
        assertEquals(40L * (Fixtures.CLASSES + hidden) * 4, memo.bytes());
        assertEquals(plain.fingerprint(), memo.fingerprint());
    }

    @Test
    void givenASmallMemoryLimit_whenTheLimitIsReached_thenTheTeacherRunsForTheRestAndOutputsStayCorrect() {
        List<DataSet> data = Fixtures.blobs(16, 5);
        Teacher plain = Teacher.of(Fixtures.trainedTeacher(data));
        Counting counting = new Counting(plain);
        MemoizedTeacher memo = MemoizedTeacher.of(counting, 8L * Fixtures.CLASSES * 4); // room for one batch of 8
        TeacherBatch first = new TeacherBatch(rows(data, List.of(0, 1, 2, 3, 4, 5, 6, 7)), null, 0);
        TeacherBatch second = new TeacherBatch(rows(data, List.of(8, 9, 10, 11, 12, 13, 14, 15)), null, 8);
        for (int epoch = 0; epoch < 2; epoch++) {
            assertEquals(plain.logits(first), memo.logits(first));
            assertEquals(plain.logits(second), memo.logits(second));
        }
        assertEquals(8 + 8 + 8, counting.logitExamples); // the second batch was never remembered
    }

    @Test
    void givenBadArguments_whenBuilt_thenClearErrors() {
        Teacher plain = Teacher.of(Fixtures.mlp(4, 1, 0.0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoizedTeacher.of(plain, 0));
        assertEquals("maxBytes must be > 0, got 0", e.getMessage());
        NullPointerException n = assertThrows(NullPointerException.class, () -> MemoizedTeacher.of(null));
        assertTrue(n.getMessage().contains("teacher must not be null"));
    }
}
