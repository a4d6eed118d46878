package io.kd4j.core.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.ClassGroups;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.logit.Ltkd.Group;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class MetricsTest {

    /**
     * Four examples, three classes:
     * ex0 [0.70, 0.20, 0.10] label 0 -> predicted 0, correct, confidence 0.70
     * ex1 [0.10, 0.50, 0.40] label 2 -> predicted 1, wrong,   confidence 0.50
     * ex2 [0.19, 0.19, 0.62] label 2 -> predicted 2, correct, confidence 0.62
     * ex3 [0.05, 0.90, 0.05] label 1 -> predicted 1, correct, confidence 0.90
     */
    private static Predictions four() {
        return Predictions.of(new double[][] {{0.70, 0.20, 0.10}, {0.10, 0.50, 0.40}, {0.19, 0.19, 0.62},
            {0.05, 0.90, 0.05}}, new int[] {0, 2, 2, 1});
    }

    @Test
    void givenFourPredictions_whenConfusionMatrix_thenCountsAndAccuraciesByHand() {
        ConfusionMatrix m = ConfusionMatrix.of(four());
        // rows = actual, columns = predicted
        long[][] expected = {{1, 0, 0}, {0, 1, 0}, {0, 1, 1}};
        for (int a = 0; a < 3; a++) {
            assertArrayEquals(expected[a], m.counts()[a], "row " + a);
        }
        assertEquals(0.75, m.accuracy(), 1e-15); // 3 of 4
        assertArrayEquals(new double[] {1.0, 1.0, 0.5}, m.perClassAccuracy(), 1e-15); // class 2: 1 of 2
        assertEquals(2, m.support(2));
    }

    @Test
    void givenGroups_whenGroupAccuracy_thenPooledOverTheGroupsExamples() {
        ConfusionMatrix m = ConfusionMatrix.of(four());
        // head {0}: 1/1; tail {1, 2}: (1 + 1) / (1 + 2) = 2/3; medium empty -> left out
        Map<Group, Double> g = m.groupAccuracy(ClassGroups.of(Group.HEAD, Group.TAIL, Group.TAIL));
        assertEquals(Map.of(Group.HEAD, 1.0, Group.TAIL, 2.0 / 3), g);
    }

    @Test
    void givenFourPredictions_whenCalibrationWith15Bins_thenEceByHand() {
        // 15 bins of width 1/15: 0.70 -> ceil(10.5) = bin 11 (index 10), 0.50 -> ceil(7.5) = bin 8 (index 7),
        // 0.62 -> ceil(9.3) = bin 10 (index 9), 0.90 -> ceil(13.5) = bin 14 (index 13); one example per bin:
        // ECE = (|1 - 0.70| + |0 - 0.50| + |1 - 0.62| + |1 - 0.90|) / 4 = (0.30 + 0.50 + 0.38 + 0.10) / 4 = 0.32
        Calibration c = Calibration.of(four());
        assertEquals(0.32, c.ece(), 1e-12);
        assertEquals(15, c.bins().size());
        Calibration.Bin b = c.bins().get(10);
        assertEquals(1, b.count());
        assertEquals(0.70, b.meanConfidence(), 1e-15);
        assertEquals(1.0, b.accuracy(), 1e-15);
        assertEquals(10 / 15.0, b.lower(), 1e-15);
        assertEquals(11 / 15.0, b.upper(), 1e-15);
        assertEquals(0, c.bins().get(0).count());
        assertEquals(0.0, c.bins().get(7).accuracy(), 1e-15);
    }

    @Test
    void givenTwoBins_whenCalibration_thenEdgeValueGoesToTheLowerBin() {
        // bin 1 = [0, 0.5]: ex1 (0.50 is on the edge; intervals are (lower, upper]) -> acc 0, conf 0.5
        // bin 2 = (0.5, 1]: ex0, ex2, ex3 -> acc 1, conf (0.70 + 0.62 + 0.90) / 3 = 0.74
        // ECE = 1/4 * 0.5 + 3/4 * |1 - 0.74| = 0.125 + 0.195 = 0.32
        Calibration c = Calibration.of(four(), 2);
        assertEquals(1, c.bins().get(0).count());
        assertEquals(3, c.bins().get(1).count());
        assertEquals(0.74, c.bins().get(1).meanConfidence(), 1e-12);
        assertEquals(0.32, c.ece(), 1e-12);
    }

    @Test
    void givenTeacherAndStudentProbabilities_whenAgreement_thenTop1AndKlByHand() {
        Predictions teacher = Predictions.of(new double[][] {{0.8, 0.2}, {0.4, 0.6}}, new int[] {0, 1});
        Predictions student = Predictions.of(new double[][] {{0.6, 0.4}, {0.7, 0.3}}, new int[] {0, 1});
        Agreement a = Agreement.of(teacher, student);
        // top-1: ex0 0 = 0, ex1 1 != 0 -> 1/2
        assertEquals(0.5, a.top1(), 1e-15);
        // KL ex0 = 0.8 ln(0.8/0.6) + 0.2 ln(0.2/0.4) = 0.2301457 - 0.1386294 = 0.0915163
        // KL ex1 = 0.4 ln(0.4/0.7) + 0.6 ln(0.6/0.3) = -0.2238463 + 0.4158883 = 0.1920420; mean 0.1417792
        assertEquals(0.1417792, a.meanKl(), 1e-7);
        assertEquals(new Agreement(1.0, 0.0), Agreement.of(teacher, teacher));
    }

    @Test
    void givenTrainedNetwork_whenPredictionsCollected_thenAgreeWithMetricsAccuracyAndTeacherSoftmax() {
        List<DataSet> train = Fixtures.blobs(256, 1);
        List<DataSet> test = Fixtures.blobs(100, 2);
        MultiLayerNetwork net = Fixtures.trainedTeacher(train);
        Predictions fromModel = Predictions.of(net, Fixtures.iterator(test, 32));
        assertEquals(100, fromModel.size());
        assertEquals(Metrics.accuracy(net, Fixtures.iterator(test, 32)), Evaluation.of(fromModel).accuracy(), 1e-15);
        // the teacher path applies a softmax to the logits: the same probabilities as the softmax output layer
        Predictions fromTeacher = Predictions.of(Teacher.of(net), Fixtures.iterator(test, 32));
        for (int i = 0; i < 100; i++) {
            for (int c = 0; c < Fixtures.CLASSES; c++) {
                assertEquals(fromModel.probability(i, c), fromTeacher.probability(i, c), 1e-5);
            }
        }
        Agreement self = Agreement.of(fromTeacher, fromModel);
        assertEquals(1.0, self.top1(), 1e-15);
        assertTrue(self.meanKl() < 1e-5, "self-KL " + self.meanKl());
    }

    @Test
    void givenBadInput_whenBuilt_thenClearErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Predictions.of(new double[][] {{0.5, 0.6}},
                new int[] {0})).getMessage().startsWith("probabilities of example 0 must sum to 1, got 1.1"));
        assertEquals("label of example 0 must be in [0, 2), got 2", assertThrows(IllegalArgumentException.class,
                () -> Predictions.of(new double[][] {{0.5, 0.5}}, new int[] {2})).getMessage());
        assertEquals("binCount must be >= 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> Calibration.of(four(), 0)).getMessage());
        ConfusionMatrix m = ConfusionMatrix.of(Predictions.of(new double[][] {{0.9, 0.1}}, new int[] {0}));
        assertEquals("class 1 has no examples in the evaluation data; its accuracy is undefined",
                assertThrows(IllegalArgumentException.class, m::perClassAccuracy).getMessage());
        assertEquals("groups cover 3 classes but the confusion matrix has 2", assertThrows(IllegalArgumentException.class,
                () -> m.groupAccuracy(ClassGroups.of(Group.HEAD, Group.HEAD, Group.TAIL))).getMessage());
        Predictions other = Predictions.of(new double[][] {{0.9, 0.1}}, new int[] {1});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Agreement.of(other,
                Predictions.of(new double[][] {{0.9, 0.1}}, new int[] {0}))).getMessage().contains("labels differ at example 0"));
    }
}
