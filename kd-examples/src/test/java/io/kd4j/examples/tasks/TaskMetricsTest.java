package io.kd4j.examples.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TaskMetricsTest {

    @Test
    void givenRankedExamples_whenAveragePrecision_thenMeanPrecisionAtTheRelevantRanks() {
        // relevant at ranks 1 and 3: (1/1 + 2/3) / 2 = 0.833333
        assertEquals(5.0 / 6, TaskMetrics.averagePrecision(new double[] {0.9, 0.8, 0.7, 0.6},
                new boolean[] {true, false, true, false}), 1e-12);
        // a tie ranks the relevant example after the irrelevant one: 1/2
        assertEquals(0.5, TaskMetrics.averagePrecision(new double[] {0.5, 0.5}, new boolean[] {true, false}), 1e-12);
        assertEquals(Double.NaN, TaskMetrics.averagePrecision(new double[] {0.5}, new boolean[] {false}));
    }

    @Test
    void givenLabelColumns_whenMeanAveragePrecision_thenColumnsWithoutPositivesAreSkipped() {
        double[][] scores = {{0.9, 0.1, 0.3}, {0.8, 0.2, 0.3}, {0.7, 0.3, 0.3}, {0.6, 0.4, 0.3}};
        boolean[][] labels = {{true, false, false}, {false, false, false}, {true, false, false}, {false, true, false}};
        // column 0: 5/6; column 1: relevant ranked first, 1; column 2 has no positive: (5/6 + 1) / 2 = 0.916667
        assertEquals((5.0 / 6 + 1) / 2, TaskMetrics.meanAveragePrecision(scores, labels), 1e-12);
    }

    @Test
    void givenProbabilities_whenMacroF1_thenMeanOfPerLabelF1AtOneHalf() {
        double[][] p = {{0.9, 0.1}, {0.2, 0.1}, {0.6, 0.1}, {0.4, 0.1}};
        boolean[][] labels = {{true, false}, {false, false}, {false, false}, {true, false}};
        // column 0: predicted T F T F vs T F F T: TP 1, FP 1, FN 1, F1 = 2/(2+1+1) = 0.5;
        // column 1: no positive and no prediction, 1; macro = 0.75
        assertEquals(0.75, TaskMetrics.macroF1(p, labels), 1e-12);
    }

    @Test
    void givenRegressionOutputs_whenRmseNllAndCoverage_thenHandArithmetic() {
        // squared errors 0, 1, 4: sqrt(5/3) = 1.290994
        assertEquals(Math.sqrt(5.0 / 3), TaskMetrics.rmse(new double[] {1, 2, 3}, new double[] {1, 1, 1}), 1e-12);
        // y=1 under N(0, 1): 0.5 ln 2π + 0.5 = 1.418939; y=3 under N(1, 4): 0.918939 + 0.5 ln 4 + 0.5·4/4 = 2.112086
        double expected = (0.5 * Math.log(2 * Math.PI) + 0.5 + 0.5 * Math.log(2 * Math.PI) + 0.5 * Math.log(4) + 0.5) / 2;
        assertEquals(expected, TaskMetrics.gaussianNll(new double[] {0, 1}, new double[] {0, Math.log(4)},
                new double[] {1, 3}), 1e-12);
        assertEquals(1.765512, expected, 1e-6);
        // sigmas 1, 1, 2 and errors 0.5, 1.5, 1.9: 2 of 3 within 1 sigma, all within 2
        double[] mean = {0, 0, 0};
        double[] lv = {0, 0, Math.log(4)};
        double[] y = {0.5, 1.5, 1.9};
        assertEquals(2.0 / 3, TaskMetrics.coverage(mean, lv, y, 1), 1e-12);
        assertEquals(1.0, TaskMetrics.coverage(mean, lv, y, 2), 1e-12);
    }

    @Test
    void givenCandidateLists_whenMrrAndPrecisionAt1_thenRelevantFirstCandidateRankedPessimistically() {
        double[][] lists = {{3, 1, 2}, {1, 3, 2}, {2, 2, 1}};
        // ranks 1, 3 and 2 (the tie counts against the relevant candidate): (1 + 1/3 + 1/2) / 3
        assertEquals(3, TaskMetrics.rankOfFirst(lists[1]));
        assertEquals(2, TaskMetrics.rankOfFirst(lists[2]));
        assertEquals((1 + 1.0 / 3 + 0.5) / 3, TaskMetrics.meanReciprocalRank(lists), 1e-12);
        assertEquals(1.0 / 3, TaskMetrics.precisionAt1(lists), 1e-12);
    }
}
