package io.kd4j.losses.properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.catalogue.LossCatalogue;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Property: for EVERY logit loss of the catalogue (feature losses: {@link FeatureLossPropertiesTest}), random shapes (rank 2 and 3, masks) and random values
 * (including NaN, ±Inf, ±1e4, huge and tiny temperatures, labels out of range, broken masks and
 * top-k teachers) either give a finite value with a finite gradient of the student's shape, or an
 * {@link IllegalArgumentException} with a message. Never a NaN, never another exception type.
 */
class CatalogueLossPropertiesTest {

    /** Values that stress the numerics; {@code null} means "no special value injected". */
    private static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e4, -1e4,
            0.0, 1e30, -1e30};
    private static final double[] TEMPERATURES = {1e-320, 1e-300, 1e-8, 1e-3, 0.5, 1.0, 4.0, 100.0, 1e6, 1e150, 1e300,
            Double.MAX_VALUE, 0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY};

    /** One generated case: the loss, the shape and how the values are drawn. */
    record Case(String loss, int rank, int batch, int classes, int time, MaskKind mask, double temperature,
                int studentSpecial, int teacherSpecial, LabelKind labels, TopKKind topK, double scale, long seed) {
    }

    enum MaskKind { NONE, RANDOM_01, ALL_ZERO, FRACTIONAL, WRONG_SHAPE }

    enum LabelKind { VALID, OUT_OF_RANGE, NEGATIVE, FRACTIONAL, MISSING }

    enum TopKKind { VALID, NAN_LOGPROB, POSITIVE_LOGPROB, DUPLICATE_INDEX, INDEX_OUT_OF_RANGE }

    /** Outcomes per loss, so that the property cannot pass by rejecting everything (or nothing). */
    private static final Map<String, Integer> FINITE = new ConcurrentSkipListMap<>();
    private static final Map<String, Integer> REJECTED = new ConcurrentSkipListMap<>();

    /** The logit losses of the catalogue (feature losses have their own property test). */
    static java.util.List<String> logitLossNames() {
        return LossCatalogue.names().stream().filter(n -> {
            try {
                return !LossCatalogue.create(n).requiredInputs().contains(InputKind.STUDENT_FEATURES);
            } catch (IllegalArgumentException needsParameters) {
                return true; // Ltkd: a logit loss that needs class counts
            }
        }).toList();
    }

    @AfterContainer
    static void everyLossWasExercisedBothWays() {
        for (String name : logitLossNames()) {
            int ok = FINITE.getOrDefault(name, 0);
            int rejected = REJECTED.getOrDefault(name, 0);
            assertTrue(ok >= 10 && rejected >= 10, "loss " + name + " got " + ok + " finite results and " + rejected
                    + " rejections; the generator must exercise both for every catalogue loss");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<String> names = Arbitraries.of(logitLossNames()).withoutEdgeCases();
        Arbitrary<Integer> rank = Arbitraries.of(2, 3);
        Arbitrary<Integer> batch = Arbitraries.integers().between(1, 5);
        Arbitrary<Integer> classes = Arbitraries.integers().between(1, 7);
        Arbitrary<Integer> time = Arbitraries.integers().between(1, 4);
        Arbitrary<MaskKind> mask = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(6, MaskKind.NONE), net.jqwik.api.Tuple.of(6, MaskKind.RANDOM_01),
                net.jqwik.api.Tuple.of(1, MaskKind.ALL_ZERO), net.jqwik.api.Tuple.of(1, MaskKind.FRACTIONAL),
                net.jqwik.api.Tuple.of(1, MaskKind.WRONG_SHAPE));
        Arbitrary<Double> temperature = Arbitraries.<Double>frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.<Double>of(1.0, 2.0, 4.0)),
                net.jqwik.api.Tuple.of(4, Arbitraries.of(java.util.Arrays.stream(TEMPERATURES).boxed().toList())));
        Arbitrary<Integer> special = Arbitraries.integers().between(-SPECIAL.length, SPECIAL.length - 1);
        Arbitrary<LabelKind> labels = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(12, LabelKind.VALID), net.jqwik.api.Tuple.of(1, LabelKind.OUT_OF_RANGE),
                net.jqwik.api.Tuple.of(1, LabelKind.NEGATIVE), net.jqwik.api.Tuple.of(1, LabelKind.FRACTIONAL),
                net.jqwik.api.Tuple.of(1, LabelKind.MISSING));
        Arbitrary<TopKKind> topK = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(8, TopKKind.VALID), net.jqwik.api.Tuple.of(1, TopKKind.NAN_LOGPROB),
                net.jqwik.api.Tuple.of(1, TopKKind.POSITIVE_LOGPROB), net.jqwik.api.Tuple.of(1, TopKKind.DUPLICATE_INDEX),
                net.jqwik.api.Tuple.of(1, TopKKind.INDEX_OUT_OF_RANGE));
        Arbitrary<Double> scale = Arbitraries.of(1.0, 10.0, 100.0, 1e4);
        Arbitrary<Long> seed = Arbitraries.longs();
        return Combinators.combine(names, rank, batch, classes, time, mask, temperature, special)
                .as((n, r, b, c, t, m, temp, s) -> new Object[] {n, r, b, c, t, m, temp, s})
                .flatMap(head -> Combinators.combine(special, labels, topK, scale, seed)
                        .as((ts, l, k, sc, sd) -> new Case((String) head[0], (Integer) head[1], (Integer) head[2],
                                (Integer) head[3], (Integer) head[1] == 3 ? (Integer) head[4] : 1, (MaskKind) head[5],
                                (Double) head[6], (Integer) head[7], ts, l, k, sc, sd)));
    }

    @Property(tries = 1500, seed = "20240605") // ~40 tries per catalogue loss; 1000 left Dist with 9 finite results once the task losses were added
    void givenRandomShapesAndValues_whenAnyCatalogueLossComputes_thenFiniteOrClearIllegalArgument(
            @ForAll("cases") Case c) {
        DistillationLoss loss;
        try {
            loss = LossCatalogue.create(c.loss(), params(c));
        } catch (IllegalArgumentException e) {
            assertClearMessage(e, c);
            return;
        }
        LossInput input;
        try {
            input = input(c, loss.requiredInputs());
        } catch (IllegalArgumentException e) {
            assertClearMessage(e, c); // e.g. TopKTeacher refusing mismatched shapes
            return;
        }
        LossResult r;
        try {
            r = loss.compute(input);
        } catch (IllegalArgumentException e) {
            assertClearMessage(e, c);
            return;
        }
        assertTrue(Double.isFinite(r.value()), () -> "non-finite value " + r.value() + " for " + c);
        INDArray g = r.studentGradient();
        assertNotNull(g, () -> "no gradient for " + c);
        assertArrayEquals(input.studentLogits().shape(), g.shape(), () -> "gradient shape for " + c);
        double[] gd = g.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (double v : gd) {
            assertTrue(Double.isFinite(v), () -> "non-finite gradient " + Arrays.toString(gd) + " for " + c);
        }
        r.terms().forEach((k, v) -> assertTrue(Double.isFinite(v), () -> "non-finite term " + k + "=" + v + " for " + c));
        FINITE.merge(c.loss(), 1, Integer::sum);
    }

    private static void assertClearMessage(IllegalArgumentException e, Case c) {
        String m = e.getMessage();
        REJECTED.merge(c.loss(), 1, Integer::sum);
        assertNotNull(m, () -> "exception without message for " + c);
        assertFalse(m.isBlank(), () -> "blank message for " + c);
        assertTrue(m.length() > 15, () -> "uninformative message '" + m + "' for " + c);
    }

    private static Map<String, Object> params(Case c) {
        Map<String, Object> p = new LinkedHashMap<>();
        DistillationLoss defaults = defaults(c);
        boolean needsCounts = c.loss().equals("Ltkd") || c.loss().equals("LogitAdjustment");
        if (needsCounts) {
            StringBuilder counts = new StringBuilder();
            Random rnd = new Random(c.seed());
            for (int j = 0; j < c.classes(); j++) {
                counts.append(j == 0 ? "" : ";").append(1 + rnd.nextInt(600));
            }
            p.put("classCounts", counts.toString());
        }
        if (c.loss().equals("Ltkd") || (defaults != null && defaults.hyperparameters().containsKey("temperature"))) {
            p.put("temperature", c.temperature());
        }
        return p;
    }

    private static DistillationLoss defaults(Case c) {
        try {
            return LossCatalogue.create(c.loss());
        } catch (IllegalArgumentException e) {
            return null; // needs parameters (Ltkd): it takes a temperature
        }
    }

    private static LossInput input(Case c, Set<InputKind> required) {
        Random rnd = new Random(c.seed());
        long[] shape = c.rank() == 2 ? new long[] {c.batch(), c.classes()} : new long[] {c.batch(), c.classes(), c.time()};
        INDArray student = values(rnd, shape, c.scale(), c.studentSpecial());
        INDArray teacher = values(rnd, shape, c.scale(), c.teacherSpecial());
        if (c.loss().startsWith("Gaussian") && c.classes() % 2 == 0) {
            // Gaussian teachers are [means | variances]: draw non-negative variances so both outcomes occur
            org.nd4j.linalg.indexing.INDArrayIndex[] half = new org.nd4j.linalg.indexing.INDArrayIndex[shape.length];
            java.util.Arrays.fill(half, org.nd4j.linalg.indexing.NDArrayIndex.all());
            half[1] = org.nd4j.linalg.indexing.NDArrayIndex.interval(c.classes() / 2, c.classes());
            INDArray variances = teacher.get(half);
            variances.assign(org.nd4j.linalg.ops.transforms.Transforms.abs(variances, true));
        }
        LossInput.Builder b = LossInput.of(student).teacherLogits(teacher)
                .epoch(new double[] {1.0, 2.5, 50.0}[rnd.nextInt(3)]);
        long rows = c.rank() == 2 ? c.batch() : (long) c.batch() * c.time();
        long[] rowShape = c.rank() == 2 ? new long[] {c.batch()} : new long[] {c.batch(), c.time()};
        if (c.labels() != LabelKind.MISSING) {
            double[] y = new double[(int) rows];
            for (int i = 0; i < y.length; i++) {
                y[i] = rnd.nextInt(c.classes());
            }
            int bad = rnd.nextInt(y.length);
            switch (c.labels()) {
                case OUT_OF_RANGE -> y[bad] = c.classes();
                case NEGATIVE -> y[bad] = -1;
                case FRACTIONAL -> y[bad] = 0.5;
                default -> { }
            }
            b.labels(Nd4j.create(y, rowShape, DataType.DOUBLE));
        }
        if (c.mask() != MaskKind.NONE) {
            double[] m = new double[(int) rows];
            for (int i = 0; i < m.length; i++) {
                m[i] = c.mask() == MaskKind.ALL_ZERO ? 0 : rnd.nextInt(4) == 0 ? 0 : 1;
            }
            if (c.mask() == MaskKind.FRACTIONAL) {
                m[rnd.nextInt(m.length)] = 0.5;
            }
            long[] maskShape = c.mask() == MaskKind.WRONG_SHAPE ? new long[] {rows + 1} : rowShape;
            b.mask(c.mask() == MaskKind.WRONG_SHAPE ? Nd4j.ones(DataType.DOUBLE, maskShape)
                    : Nd4j.create(m, maskShape, DataType.DOUBLE));
        }
        if (required.contains(InputKind.TEACHER_TOP_K)) {
            b.teacherTopK(topK(c, teacher, rnd));
        }
        return b.build();
    }

    /** Uniform values in [-scale, scale], with one special value injected when {@code special >= 0}. */
    private static INDArray values(Random rnd, long[] shape, double scale, int special) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = (rnd.nextDouble() * 2 - 1) * scale;
        }
        if (special >= 0) {
            d[rnd.nextInt(n)] = SPECIAL[special];
        }
        return Nd4j.create(d, shape, DataType.DOUBLE);
    }

    /** The teacher's top-k (log-softmax of the teacher at T=1), optionally broken. */
    private static TopKTeacher topK(Case c, INDArray teacher, Random rnd) {
        int k = 1 + rnd.nextInt(c.classes());
        INDArray rowsBt = c.rank() == 3 ? teacher.permute(0, 2, 1).dup('c') : teacher.dup('c');
        double[] t = rowsBt.data().asDouble();
        int rows = t.length / c.classes();
        double[] idx = new double[rows * k];
        double[] lp = new double[rows * k];
        for (int r = 0; r < rows; r++) {
            int off = r * c.classes();
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c.classes(); j++) {
                max = Math.max(max, t[off + j]);
            }
            double sum = 0;
            for (int j = 0; j < c.classes(); j++) {
                sum += Math.exp(t[off + j] - max);
            }
            double lse = max + Math.log(sum);
            Integer[] order = new Integer[c.classes()];
            for (int j = 0; j < order.length; j++) {
                order[j] = j;
            }
            Arrays.sort(order, (a, b2) -> Double.compare(t[off + b2], t[off + a]));
            for (int j = 0; j < k; j++) {
                idx[r * k + j] = order[j];
                lp[r * k + j] = t[off + order[j]] - lse;
            }
        }
        int bad = rnd.nextInt(rows * k);
        switch (c.topK()) {
            case NAN_LOGPROB -> lp[bad] = Double.NaN;
            case POSITIVE_LOGPROB -> lp[bad] = 0.7;
            case DUPLICATE_INDEX -> {
                if (k > 1) {
                    idx[(bad / k) * k + 1] = idx[(bad / k) * k];
                }
            }
            case INDEX_OUT_OF_RANGE -> idx[bad] = c.classes();
            default -> { }
        }
        long[] shape = c.rank() == 2 ? new long[] {c.batch(), k} : new long[] {c.batch(), k, c.time()};
        INDArray indices = Nd4j.create(idx, c.rank() == 2 ? shape : new long[] {c.batch(), c.time(), k}, DataType.DOUBLE);
        INDArray logProbs = Nd4j.create(lp, c.rank() == 2 ? shape : new long[] {c.batch(), c.time(), k}, DataType.DOUBLE);
        if (c.rank() == 3) {
            indices = indices.permute(0, 2, 1).dup('c');
            logProbs = logProbs.permute(0, 2, 1).dup('c');
        }
        return new TopKTeacher(indices, logProbs);
    }
}
