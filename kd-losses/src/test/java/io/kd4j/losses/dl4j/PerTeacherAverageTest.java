package io.kd4j.losses.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Averaging per-teacher losses through the DL4J adapter: with {@code M} stacked teacher blocks the
 * objective's value and gradient equal the weighted sums of the per-member single-teacher losses, each
 * computed independently through the standalone API ({@code loss.compute(LossInput)}).
 */
class PerTeacherAverageTest {
    private static final int N = 5;
    private static final int C = 4;
    private static final double EPOCH = 3.0;

    /** One term of the reference: its weight, the loss by catalogue name and parameters, whether it reads the teacher. */
    record RefTerm(double weight, String name, Map<String, String> params, boolean readsTeacher) {
    }

    record Case(String formula, double[] teacherWeights, List<RefTerm> terms) {
        @Override
        public String toString() {
            return formula + " over " + teacherWeights.length + " teachers";
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case("0.3*CrossEntropy + 0.7*Dkd(nonTargetWeight=2.0, warmupEpochs=5.0)", new double[] {3, 1},
                        List.of(new RefTerm(0.3, "CrossEntropy", Map.of(), false),
                                new RefTerm(0.7, "Dkd", Map.of("nonTargetWeight", "2.0", "warmupEpochs", "5.0"), true))),
                new Case("Dist(temperature=2.0)", new double[] {1, 1, 2},
                        List.of(new RefTerm(1.0, "Dist", Map.of("temperature", "2.0"), true))),
                new Case("0.5*CrossEntropy + 0.5*ReverseKl(temperature=2.0)", new double[] {1, 0, 3},
                        List.of(new RefTerm(0.5, "CrossEntropy", Map.of(), false),
                                new RefTerm(0.5, "ReverseKl", Map.of("temperature", "2.0"), true))),
                new Case("0.2*SoftTargetKl(temperature=4.0) + 0.8*JensenShannon", new double[] {2, 5},
                        List.of(new RefTerm(0.2, "SoftTargetKl", Map.of("temperature", "4.0"), true),
                                new RefTerm(0.8, "JensenShannon", Map.of(), true))));
    }

    /** Student, M teachers, labels and the packed [one-hot | t_0 | ... | t_M-1 | epoch] rows. */
    private record Batch(INDArray student, INDArray[] teachers, int[] labels, INDArray packed) {
    }

    private static Batch batch(int members, long seed) {
        Random rnd = new Random(seed);
        double[][] s = new double[N][C];
        double[][][] t = new double[members][N][C];
        int[] y = new int[N];
        double[][] packed = new double[N][C + members * C + 1];
        for (int i = 0; i < N; i++) {
            y[i] = rnd.nextInt(C);
            packed[i][y[i]] = 1;
            for (int j = 0; j < C; j++) {
                s[i][j] = rnd.nextGaussian() * 2;
                for (int m = 0; m < members; m++) {
                    t[m][i][j] = rnd.nextGaussian() * 3;
                    packed[i][C + m * C + j] = t[m][i][j];
                }
            }
            packed[i][C + members * C] = EPOCH;
        }
        INDArray[] teachers = new INDArray[members];
        for (int m = 0; m < members; m++) {
            teachers[m] = Nd4j.create(t[m]).castTo(DataType.DOUBLE);
        }
        return new Batch(Nd4j.create(s).castTo(DataType.DOUBLE), teachers, y, Nd4j.create(packed).castTo(DataType.DOUBLE));
    }

    /** Value and gradient (d value / d student) of the reference: Σ_terms w (Σ_m a_m L(s, t_m) or L(s)). */
    private static LossResult reference(Case c, Batch b, double[] mask) {
        double sum = 0;
        for (double a : c.teacherWeights()) {
            sum += a;
        }
        double value = 0;
        INDArray grad = Nd4j.zeros(DataType.DOUBLE, N, C);
        INDArray labels = Nd4j.create(java.util.Arrays.stream(b.labels()).asDoubleStream().toArray(), new long[] {N},
                DataType.DOUBLE);
        INDArray m = mask == null ? null : Nd4j.create(mask, new long[] {N}, DataType.DOUBLE);
        for (RefTerm term : c.terms()) {
            DistillationLoss loss = LossCatalogue.create(term.name(), term.params());
            int members = term.readsTeacher() ? c.teacherWeights().length : 1;
            for (int k = 0; k < members; k++) {
                double a = term.readsTeacher() ? c.teacherWeights()[k] / sum : 1.0;
                LossInput.Builder in = LossInput.of(b.student()).labels(labels).epoch(EPOCH);
                if (term.readsTeacher()) {
                    in.teacherLogits(b.teachers()[k]);
                }
                if (m != null) {
                    in.mask(m);
                }
                LossResult r = loss.compute(in.build());
                value += term.weight() * a * r.value();
                grad.addi(r.studentGradient().castTo(DataType.DOUBLE).mul(term.weight() * a));
            }
        }
        return new LossResult(value, grad, Map.of());
    }

    private static DistillationLossFunction adapter(Case c) {
        return DistillationLossFunction.of(Objective.parse(c.formula()),
                TargetLayout.stacked(C, c.teacherWeights().length), c.teacherWeights());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenStackedTeachers_whenEvaluated_thenValueAndGradientAreWeightedSumsOfPerTeacherLosses(Case c) {
        Batch b = batch(c.teacherWeights().length, 11);
        DistillationLossFunction fn = adapter(c);
        LossResult ref = reference(c, b, null);
        // DL4J's per-example contract: the mean of the score array is the value, the gradient is n times dValue/ds
        INDArray scores = fn.computeScoreArray(b.packed(), b.student(), new ActivationIdentity(), null);
        INDArray grad = fn.computeGradient(b.packed(), b.student(), new ActivationIdentity(), null);
        assertEquals(ref.value(), scores.sumNumber().doubleValue() / N, 1e-10);
        assertArrayEquals(ref.studentGradient().ravel().toDoubleVector(), grad.div(N).ravel().toDoubleVector(), 1e-10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givenStackedTeachersAndMaskedRows_whenEvaluated_thenMeanOverValidRowsAndZeroGradientAtMaskedRows(Case c) {
        Batch b = batch(c.teacherWeights().length, 12);
        double[] mask = {1, 0, 1, 1, 0};
        DistillationLossFunction fn = adapter(c);
        LossResult ref = reference(c, b, mask);
        INDArray m = Nd4j.create(mask, new long[] {N, 1}, DataType.DOUBLE);
        INDArray scores = fn.computeScoreArray(b.packed(), b.student(), new ActivationIdentity(), m);
        INDArray grad = fn.computeGradient(b.packed(), b.student(), new ActivationIdentity(), m);
        assertEquals(ref.value(), scores.sumNumber().doubleValue() / 3, 1e-10);
        assertArrayEquals(ref.studentGradient().ravel().toDoubleVector(), grad.div(3).ravel().toDoubleVector(), 1e-10);
        assertEquals(0.0, grad.getRow(1).norm1Number().doubleValue(), 0.0);
    }

    @Test
    void givenStackedTeachers_whenGradientChecked_thenMatchesCentralDifferencesOfTheScore() {
        Case c = cases().get(0);
        Batch b = batch(2, 13);
        DistillationLossFunction fn = adapter(c);
        INDArray analytic = fn.computeGradient(b.packed(), b.student(), new ActivationIdentity(), null).div(N);
        double h = 1e-6;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < C; j++) {
                INDArray plus = b.student().dup();
                plus.putScalar(i, j, plus.getDouble(i, j) + h);
                INDArray minus = b.student().dup();
                minus.putScalar(i, j, minus.getDouble(i, j) - h);
                double numeric = (fn.computeScore(b.packed(), plus, new ActivationIdentity(), null, true)
                        - fn.computeScore(b.packed(), minus, new ActivationIdentity(), null, true)) / (2 * h);
                double a = analytic.getDouble(i, j);
                assertTrue(Math.abs(a - numeric) <= 1e-6 * Math.max(Math.abs(a), Math.abs(numeric)) || Math.abs(a - numeric) < 1e-8,
                        "row " + i + " class " + j + ": analytic " + a + ", numeric " + numeric);
            }
        }
    }

    @Test
    void givenOneTeacherBlockWithItsOwnWeight_whenEvaluated_thenEqualsThePlainAdapter() {
        Batch b = batch(1, 14);
        Objective o = Objective.parse("0.5*CrossEntropy + 0.5*Dkd");
        DistillationLossFunction plain = DistillationLossFunction.of(o, TargetLayout.dense(C));
        DistillationLossFunction one = DistillationLossFunction.of(o, TargetLayout.dense(C), new double[] {2.0});
        assertEquals(plain, one);
        assertEquals(plain.computeScore(b.packed(), b.student(), new ActivationIdentity(), null, true),
                one.computeScore(b.packed(), b.student(), new ActivationIdentity(), null, true), 0.0);
    }

    @Test
    void givenStackedAdapter_whenJsonRoundTripped_thenWeightsAndLayoutSurvive() throws Exception {
        DistillationLossFunction fn = adapter(cases().get(0));
        ObjectMapper mapper = new ObjectMapper();
        String json = mapper.writeValueAsString(fn);
        DistillationLossFunction back = mapper.readValue(json, DistillationLossFunction.class);
        assertEquals(fn, back);
        assertEquals(TargetLayout.stacked(C, 2), back.layout());
        assertArrayEquals(new double[] {0.75, 0.25}, back.teacherWeights(), 0.0);
        // one teacher block: the JSON is what it was before stacked teachers existed (no teacherWeights key)
        String single = mapper.writeValueAsString(DistillationLossFunction.of(Objective.parse("Dkd"), TargetLayout.dense(C)));
        assertTrue(!single.contains("teacherWeights"), single);
        assertEquals(TargetLayout.dense(C), mapper.readValue(single, DistillationLossFunction.class).layout());
    }

    @Test
    void givenBadStackedSettings_whenBuiltOrEvaluated_thenClearErrors() {
        Objective o = Objective.parse("Dkd");
        assertEquals("need one weight per stacked teacher (2), got 3", assertThrows(IllegalArgumentException.class,
                () -> DistillationLossFunction.of(o, TargetLayout.stacked(C, 2), new double[] {1, 1, 1})).getMessage());
        assertEquals("teacher weight 1 must be finite and >= 0, got -1.0", assertThrows(IllegalArgumentException.class,
                () -> DistillationLossFunction.of(o, TargetLayout.stacked(C, 2), new double[] {1, -1})).getMessage());
        assertEquals("teacher weights must not all be 0, got [0.0, 0.0]", assertThrows(IllegalArgumentException.class,
                () -> DistillationLossFunction.of(o, TargetLayout.stacked(C, 2), new double[] {0, 0})).getMessage());
        assertEquals("a layout of 2 stacked teachers needs their weights: use of(objective, layout, teacherWeights)",
                assertThrows(IllegalArgumentException.class,
                        () -> DistillationLossFunction.of(o, TargetLayout.stacked(C, 2))).getMessage());
        assertEquals("stacked teachers (teachers=2) need dense teacher blocks, got topK=2",
                assertThrows(IllegalArgumentException.class, () -> new TargetLayout(C, 2, 2)).getMessage());
        assertEquals("teachers must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new TargetLayout(C, 0, 0)).getMessage());
        // labels packed for one teacher given to a two-teacher adapter
        Batch one = batch(1, 15);
        DistillationLossFunction two = DistillationLossFunction.of(o, TargetLayout.stacked(C, 2), new double[] {1, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> two.computeScore(one.packed(), one.student(), new ActivationIdentity(), null, true));
        assertEquals("packed labels must be [5, 13] (one-hot 4 | teacher 8 | epoch 1), got [5, 9]; attach teacher "
                + "outputs with kd-core's TeacherTargetIterator", e.getMessage());
    }
}
