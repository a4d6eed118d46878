package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.logit.Ltkd.Group;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LtkdTest {
    private static final Group H = Group.HEAD;
    private static final Group M = Group.MEDIUM;
    private static final Group T = Group.TAIL;
    private static final Group[] SIX = {H, H, M, T, M, T};

    private static Ltkd ltkd(double temp, Group[] groups, boolean rebalance, boolean reweight) {
        return new Ltkd(TemperatureSchedule.constant(temp), groups, 1.0, 1.0, rebalance, reweight);
    }

    private static LossResult run(Ltkd loss, INDArray s, INDArray t) {
        return loss.compute(LossInput.of(s).teacherLogits(t).build());
    }

    /**
     * The paper's loss written plainly in probability space from its formulas (PyTorch style:
     * softmax, group sums, batch-mean rebalancing, renormalise, kl_div sums), for the rows given.
     */
    static double reference(double[][] s, double[][] t, Group[] groups, double temp, double alpha, double beta,
                            boolean rebalance, boolean reweight) {
        int n = s.length;
        int c = groups.length;
        double[][] pg = new double[n][3];
        double[][] qg = new double[n][3];
        double[][] p = new double[n][];
        double[][] q = new double[n][];
        for (int i = 0; i < n; i++) {
            p[i] = Reference.softmax(t[i], temp);
            q[i] = Reference.softmax(s[i], temp);
            for (int k = 0; k < c; k++) {
                pg[i][groups[k].ordinal()] += p[i][k];
                qg[i][groups[k].ordinal()] += q[i][k];
            }
        }
        boolean[] present = new boolean[3];
        int nonEmpty = 0;
        for (Group g : groups) {
            if (!present[g.ordinal()]) {
                present[g.ordinal()] = true;
                nonEmpty++;
            }
        }
        double[] scale = {1, 1, 1};
        if (rebalance) {
            for (int g = 0; g < 3; g++) {
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += pg[i][g] / n;
                }
                scale[g] = present[g] ? (1.0 / nonEmpty) / mean : 0;
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int g = 0; g < 3; g++) {
                z += scale[g] * pg[i][g];
            }
            double crossKl = 0;
            double withinKl = 0;
            for (int g = 0; g < 3; g++) {
                if (!present[g]) {
                    continue;
                }
                double phat = scale[g] * pg[i][g] / z;
                crossKl += phat * Math.log(phat / qg[i][g]);
                double klg = 0;
                for (int k = 0; k < c; k++) {
                    if (groups[k].ordinal() == g) {
                        double pk = p[i][k] / pg[i][g];
                        double qk = q[i][k] / qg[i][g];
                        klg += pk * Math.log(pk / qk);
                    }
                }
                withinKl += (reweight ? 1.0 : pg[i][g]) * klg;
            }
            total += alpha * crossKl + beta * withinKl;
        }
        return total / n * temp * temp;
    }

    private static double[][] rows(INDArray a) {
        return a.toDoubleMatrix();
    }

    @Test
    void givenSingletonGroupsAndOneRow_whenRebalanced_thenTargetIsUniformOverGroups() {
        // Given classes [head, medium, tail], one row, T = 1, student [ln 2, 0, 0]: q = [1/2, 1/4, 1/4].
        // One row: Pbar = P, w_g = (1/3)/P_g, so P^ = [1/3, 1/3, 1/3] whatever the teacher. Singleton groups
        // have zero within-group KL, so L = KL(u || q) = 1/3 ln(2/3) + 2/3 ln(4/3)
        //   = 1/3 (-0.4054651) + 2/3 (0.2876821) = -0.1351550 + 0.1917881 = 0.0566330.
        // dL/ds = T (Q_g - P^_g) q|g = [1/2 - 1/3, 1/4 - 1/3, 1/4 - 1/3] = [1/6, -1/12, -1/12].
        INDArray s = matrix(new double[][] {{Math.log(2), 0, 0}});
        INDArray t = matrix(new double[][] {{3.0, -1.0, 0.5}});
        LossResult r = run(ltkd(1.0, new Group[] {H, M, T}, true, true), s, t);
        assertEquals(0.0566330, r.value(), 1e-7);
        assertEquals(Math.log(2.0 / 3) / 3 + 2 * Math.log(4.0 / 3) / 3, r.value(), 1e-12);
        assertArrayEquals(new double[] {1.0 / 6, -1.0 / 12, -1.0 / 12}, r.studentGradient().toDoubleVector(), 1e-12);
    }

    @Test
    void givenTwoGroups_whenEachCorrectionToggled_thenMatchesHandArithmetic() {
        // Given groups [head, head, tail], teacher [ln 3, 0, 0] -> p = [3/5, 1/5, 1/5], P = [4/5, 1/5];
        // student [0, 0, 0] -> q = [1/3, 1/3, 1/3], Q = [2/3, 1/3]; T = 1, one row.
        // within head: p|h = [3/4, 1/4], q|h = [1/2, 1/2]: 3/4 ln(3/2) + 1/4 ln(1/2) = 0.1308120; tail: 0.
        // cross KL(P||Q) = 0.8 ln(1.2) + 0.2 ln(0.6) = 0.1458573 - 0.1021651 = 0.0436922
        // rebalanced cross (one row, G = 2): P^ = [1/2, 1/2]: 0.5 ln(0.75) + 0.5 ln(1.5) = 0.0588915
        INDArray s = matrix(new double[][] {{0, 0, 0}});
        INDArray t = matrix(new double[][] {{Math.log(3), 0, 0}});
        Group[] g = {H, H, T};
        // plain KD: 0.0436922 + 0.8 * 0.1308120 = 0.1483418 (= 0.6 ln 1.8 + 0.4 ln 0.6)
        assertEquals(0.1483418, run(ltkd(1, g, false, false), s, t).value(), 1e-7);
        // reweighted only: 0.0436922 + 0.1308120 = 0.1745042
        assertEquals(0.1745042, run(ltkd(1, g, false, true), s, t).value(), 1e-7);
        // rebalanced only: 0.0588915 + 0.8 * 0.1308120 = 0.1635411
        assertEquals(0.1635411, run(ltkd(1, g, true, false), s, t).value(), 1e-7);
        // both: 0.0588915 + 0.1308120 = 0.1897035
        LossResult both = run(ltkd(1, g, true, true), s, t);
        assertEquals(0.1897035, both.value(), 1e-7);
        assertEquals(0.0588915, both.terms().get("crossGroup"), 1e-7);
        assertEquals(0.1308120, both.terms().get("withinHead"), 1e-7);
        assertEquals(0.0, both.terms().get("withinMedium"), 0.0);
        assertEquals(0.0, both.terms().get("withinTail"), 1e-15);
    }

    static Stream<Arguments> configurations() {
        return Stream.of(Arguments.of(true, true), Arguments.of(true, false), Arguments.of(false, true),
                Arguments.of(false, false));
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void givenRandomBatch_whenComputed_thenEqualsPlainProbabilitySpaceReference(boolean rebalance, boolean reweight) {
        Random rnd = new Random(17);
        INDArray s = LossChecks.randomLogits(rnd, 4, 5, 6);
        INDArray t = LossChecks.randomLogits(rnd, 4, 5, 6);
        Ltkd loss = new Ltkd(TemperatureSchedule.constant(4.0), SIX, 0.7, 2.5, rebalance, reweight);
        LossResult r = run(loss, s, t);
        assertEquals(reference(rows(s), rows(t), SIX, 4.0, 0.7, 2.5, rebalance, reweight), r.value(), 1e-12);
        assertEquals(r.value(), r.terms().get("crossGroup") + r.terms().get("withinGroup"), 1e-12);
        assertEquals(r.terms().get("withinGroup"), r.terms().get("withinHead") + r.terms().get("withinMedium")
                + r.terms().get("withinTail"), 1e-12);
    }

    static Stream<Double> temperatures() {
        return Stream.of(0.5, 1.0, 4.0, 20.0);
    }

    @ParameterizedTest
    @MethodSource("temperatures")
    void givenCorrectionsOff_whenComputed_thenEqualsSoftTargetKlExactly(double temp) {
        Random rnd = new Random(23);
        INDArray s = LossChecks.randomLogits(rnd, 6, 7, 6);
        INDArray t = LossChecks.randomLogits(rnd, 6, 7, 6);
        LossResult kd = run(ltkd(temp, SIX, false, false), s, t);
        LossResult expected = SoftTargetKl.withTemperature(temp).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(expected.value(), kd.value(), 1e-12);
        double[] a = kd.studentGradient().ravel().toDoubleVector();
        double[] b = expected.studentGradient().ravel().toDoubleVector();
        assertArrayEquals(b, a, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(boolean rebalance, boolean reweight) {
        Random rnd = new Random(29);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 6);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 6);
        Ltkd loss = new Ltkd(TemperatureSchedule.constant(2.0), SIX, 0.5, 3.0, rebalance, reweight);
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenBatchStatisticsUseOnlyValidPositions() {
        // Given [batch=2, classes=6, time=3] with positions (0, 2) and (1, 1) masked out
        Random rnd = new Random(31);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 6, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 6, 3);
        INDArray mask = matrix(new double[][] {{1, 1, 0}, {1, 0, 1}});
        Ltkd loss = ltkd(2.0, SIX, true, true);
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        int[][] valid = {{0, 0}, {0, 1}, {1, 0}, {1, 2}};
        double[][] sr = new double[4][6];
        double[][] tr = new double[4][6];
        for (int j = 0; j < 4; j++) {
            for (int c = 0; c < 6; c++) {
                sr[j][c] = s.getDouble(valid[j][0], c, valid[j][1]);
                tr[j][c] = t.getDouble(valid[j][0], c, valid[j][1]);
            }
        }
        assertEquals(reference(sr, tr, SIX, 2.0, 1, 1, true, true), r.value(), 1e-12);
        for (int c = 0; c < 6; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 2), 0.0);
            assertEquals(0.0, r.studentGradient().getDouble(1, c, 1), 0.0);
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void givenStudentEqualsTeacher_whenNotRebalanced_thenZeroValueAndGradient(boolean rebalance, boolean reweight) {
        INDArray s = LossChecks.randomLogits(new Random(2), 4, 3, 6);
        LossResult r = run(ltkd(4, SIX, false, reweight), s, s.dup());
        assertEquals(0.0, r.value(), 1e-12);
        assertEquals(0.0, r.studentGradient().amaxNumber().doubleValue(), 1e-12);
        // rebalancing changes the target, so equality is not a minimum then; the gradient is still a softmax one
        LossResult rb = run(ltkd(4, SIX, rebalance, reweight), s, s.dup());
        assertRowsSumToZero(rb.studentGradient(), 1e-12);
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void givenBatchRepeated_whenComputed_thenValueIsBatchSizeIndependent(boolean rebalance, boolean reweight) {
        Random rnd = new Random(37);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 6);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 6);
        Ltkd loss = ltkd(3, SIX, rebalance, reweight);
        LossResult one = run(loss, s, t);
        LossResult twice = run(loss, Nd4j.vstack(s, s), Nd4j.vstack(t, t));
        assertEquals(one.value(), twice.value(), 1e-12);
        assertRowsSumToZero(one.studentGradient(), 1e-12);
    }

    @Test
    void givenRebalancing_whenEvaluated_thenNoPerRowValuesBecauseRowsAreCoupled() {
        Random rnd = new Random(41);
        var rows = io.kd4j.losses.api.LogitRows.from(LossInput.of(LossChecks.randomLogits(rnd, 2, 2, 6))
                .teacherLogits(LossChecks.randomLogits(rnd, 2, 2, 6)).build(),
                ltkd(1, SIX, true, true).requiredInputs(), "Ltkd");
        assertNull(ltkd(1, SIX, true, true).evaluate(rows, 1.0).rowValues());
        assertEquals(2, ltkd(1, SIX, false, true).evaluate(rows, 1.0).rowValues().length);
    }

    @Test
    void givenExtremeLogits_whenComputedInFloat32_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f, 5f, -1e4f, 1e4f}, {-1e4f, 1e4f, 3f, 0f, 1e4f, -1e4f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f, 1e4f, 2f, -1e4f}, {1e4f, -1e4f, 3f, -1e4f, 0f, 1e4f}});
        for (boolean rebalance : new boolean[] {true, false}) {
            LossResult r = run(ltkd(1, SIX, rebalance, true), s, t);
            assertTrue(Double.isFinite(r.value()), "value " + r.value());
            assertEquals(DataType.FLOAT, r.studentGradient().dataType());
            assertFinite(r.studentGradient(), "gradient");
            r.terms().values().forEach(v -> assertTrue(Double.isFinite(v), "term " + v));
        }
    }

    @Test
    void givenClassCounts_whenGrouped_thenThresholdsAndThirdsSplitAsDocumented() {
        // > 100 head, < 20 tail, else medium (100 and 20 are medium)
        assertArrayEquals(new Group[] {H, M, M, T, M, H},
                Ltkd.groupsByThresholds(new long[] {500, 100, 20, 19, 50, 101}, 100, 20));
        // thirds: floor(6/3) = 2 most frequent head, 2 least frequent tail; ties by class index
        assertArrayEquals(new Group[] {H, M, T, T, H, M}, Ltkd.groupsByThirds(new long[] {500, 40, 3, 3, 90, 40}));
        Ltkd fromCounts = (Ltkd) LossCatalogue.create("Ltkd", Map.of("classCounts", "500;100;20;19;50;101"));
        assertArrayEquals(new Group[] {H, M, M, T, M, H}, fromCounts.groups());
    }

    @Test
    void givenEmptyGroups_whenComputed_thenLeftOutOfBothTerms() {
        // all classes many-shot: one group, rebalancing is the identity and the loss is plain KD
        Random rnd = new Random(43);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 4);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 4);
        Ltkd allHead = (Ltkd) LossCatalogue.create("Ltkd", Map.of("classCounts", "900;800;700;600"));
        double kd = SoftTargetKl.withTemperature(4).compute(LossInput.of(s).teacherLogits(t).build()).value();
        assertEquals(kd, run(allHead, s, t).value(), 1e-12);
        // medium empty: G = 2 in the rebalancing target
        Group[] g = {H, T, H, T};
        assertEquals(reference(rows(s), rows(t), g, 4, 1, 1, true, true), run(ltkd(4, g, true, true), s, t).value(),
                1e-12);
    }

    private static void assertMessage(String expected, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals(expected, ex.getMessage());
    }

    @Test
    void givenBadHyperparameters_whenCreated_thenClearErrors() {
        assertMessage("temperature must be > 0 and finite, got -1.0",
                () -> LossCatalogue.create("Ltkd", Map.of("temperature", "-1", "classCounts", "5;200")));
        assertMessage("crossGroupWeight must be >= 0 and finite, got -1.0",
                () -> new Ltkd(TemperatureSchedule.constant(1), SIX, -1, 1, true, true));
        assertMessage("withinGroupWeight must be >= 0 and finite, got NaN",
                () -> new Ltkd(TemperatureSchedule.constant(1), SIX, 1, Double.NaN, true, true));
        assertMessage("manyShotMin must be >= 0, got -1",
                () -> LossCatalogue.create("Ltkd", Map.of("manyShotMin", "-1", "fewShotMax", "0", "classCounts", "5")));
        assertMessage("fewShotMax must be <= manyShotMin, got fewShotMax=150 and manyShotMin=100",
                () -> LossCatalogue.create("Ltkd", Map.of("fewShotMax", "150", "classCounts", "5;200")));
        assertMessage("classCounts must be >= 0, got -3 at class 1",
                () -> LossCatalogue.create("Ltkd", Map.of("classCounts", "5;-3;200")));
        assertMessage("classCounts must be semicolon-separated integers, got '5;x' (entry 1: 'x')",
                () -> LossCatalogue.create("Ltkd", Map.of("classCounts", "5;x")));
        assertMessage("classGroups must be semicolon-separated head, medium or tail, got 'big' at class 1",
                () -> LossCatalogue.create("Ltkd", Map.of("classGroups", "head;big")));
        assertMessage("grouping must be one of [thresholds, thirds], got 'quartiles'",
                () -> LossCatalogue.create("Ltkd", Map.of("grouping", "quartiles", "classCounts", "5")));
        assertMessage("Ltkd: give exactly one of classCounts (training-set examples per class, e.g. 500;120;7) or "
                + "classGroups (e.g. head;medium;tail), got neither", () -> LossCatalogue.create("Ltkd"));
        assertMessage("Ltkd: give exactly one of classCounts (training-set examples per class, e.g. 500;120;7) or "
                + "classGroups (e.g. head;medium;tail), got both",
                () -> LossCatalogue.create("Ltkd", Map.of("classGroups", "head", "classCounts", "5")));
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        Ltkd loss = (Ltkd) LossCatalogue.create("Ltkd", Map.of("classCounts", "500;50;5"));
        INDArray s = matrix(new double[][] {{0, 1, 2, 3}});
        assertMessage("Ltkd: classCounts has 3 entries but the logits have 4 classes", () -> run(loss, s, s));
        assertMessage("Ltkd: classGroups has 6 entries but the logits have 4 classes",
                () -> run(ltkd(1, SIX, true, true), s, s));
        INDArray s3 = matrix(new double[][] {{0, 1, 2}});
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> run(loss, s3, matrix(new double[][] {{0, 1, 2}, {1, 2, 3}})));
        assertTrue(shape.getMessage().contains("teacher_logits shape [2, 3] must equal student_logits shape [1, 3]"),
                shape.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> run(loss, s3, matrix(new double[][] {{0, Double.NaN, 2}})));
        assertTrue(nan.getMessage().contains("teacher_logits must be finite, got NaN at row 0, class 1"),
                nan.getMessage());
    }

    @Test
    void givenDescribe_whenParsedAsObjective_thenRoundTripsExactly() {
        String[] described = {
            LossCatalogue.create("Ltkd", Map.of("classCounts", "500;50;5", "crossGroupWeight", "2",
                    "withinGroupWeight", "0.5", "temperature", "3")).describe(),
            LossCatalogue.create("Ltkd", Map.of("classCounts", "500;50;5", "grouping", "thirds",
                    "rebalance", "false")).describe(),
            ltkd(2.0, SIX, true, false).describe(),
        };
        assertEquals("Ltkd(temperature=3.0, crossGroupWeight=2.0, withinGroupWeight=0.5, rebalance=true, reweight=true, "
                + "classCounts=500;50;5, grouping=thresholds, manyShotMin=100, fewShotMax=20)", described[0]);
        assertEquals("Ltkd(temperature=2.0, crossGroupWeight=1.0, withinGroupWeight=1.0, rebalance=true, "
                + "reweight=false, classGroups=head;head;medium;tail;medium;tail)", described[2]);
        for (String d : described) {
            assertEquals(d, Objective.parse(d).terms().get(0).loss().describe());
        }
    }
}
