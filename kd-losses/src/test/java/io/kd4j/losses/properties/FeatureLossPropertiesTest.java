package io.kd4j.losses.properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.feature.FeatureInput;
import io.kd4j.losses.feature.FeatureLoss;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * Property: for EVERY feature loss of the catalogue, random ranks (2, 3 with masks, 4), sizes (equal
 * or different student/teacher widths) and values (NaN, ±Inf, ±1e4, ±1e30) either give a finite value
 * with a finite gradient of the student's shape, or an {@link IllegalArgumentException} with a message.
 */
class FeatureLossPropertiesTest {
    private static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e4, -1e4,
            0.0, 1e30, -1e30};
    private static final Map<String, Integer> FINITE = new ConcurrentSkipListMap<>();
    private static final Map<String, Integer> REJECTED = new ConcurrentSkipListMap<>();

    record Case(String loss, int rank, int batch, int channels, int teacherChannels, int size, boolean mask,
                int special, double scale, long seed) {
    }

    static List<String> featureLossNames() {
        return LossCatalogue.names().stream().filter(n -> {
            try {
                return LossCatalogue.create(n).requiredInputs().contains(InputKind.STUDENT_FEATURES);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }).toList();
    }

    @AfterContainer
    static void everyFeatureLossWasExercisedBothWays() {
        for (String name : featureLossNames()) {
            int ok = FINITE.getOrDefault(name, 0);
            int rejected = REJECTED.getOrDefault(name, 0);
            assertTrue(ok >= 5 && rejected >= 5, "feature loss " + name + " got " + ok + " finite results and "
                    + rejected + " rejections; the generator must exercise both");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(Arbitraries.of(featureLossNames()).withoutEdgeCases(), Arbitraries.of(2, 3, 4),
                        Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 4),
                        Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 3),
                        Arbitraries.of(true, false), Arbitraries.integers().between(-SPECIAL.length, SPECIAL.length - 1))
                .as((n, r, b, c, tc, sz, m, sp) -> new Object[] {n, r, b, c, tc, sz, m, sp})
                .flatMap(h -> Combinators.combine(Arbitraries.of(1.0, 10.0, 1e4), Arbitraries.longs())
                        .as((sc, sd) -> new Case((String) h[0], (Integer) h[1], (Integer) h[2], (Integer) h[3],
                                (Integer) h[4], (Integer) h[5], (Boolean) h[6], (Integer) h[7], sc, sd)));
    }

    @Property(tries = 1000, seed = "20261122")
    void givenRandomFeatures_whenAnyFeatureLossComputes_thenFiniteOrClearIllegalArgument(@ForAll("cases") Case c) {
        FeatureLoss loss = (FeatureLoss) LossCatalogue.create(c.loss());
        Random rnd = new Random(c.seed());
        INDArray student = values(rnd, shape(c, c.channels()), c);
        INDArray teacher = values(rnd, shape(c, c.teacherChannels()), c);
        INDArray mask = null;
        if (c.mask() && c.rank() == 3) {
            double[] m = new double[c.batch() * c.size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = rnd.nextInt(3) == 0 ? 0 : 1;
            }
            mask = Nd4j.create(m, new long[] {c.batch(), c.size()}, DataType.DOUBLE);
        }
        LossResult r;
        try {
            r = loss.compute(new FeatureInput(student, teacher, mask));
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && e.getMessage().length() > 15, () -> "unclear message for " + c);
            REJECTED.merge(c.loss(), 1, Integer::sum);
            return;
        }
        assertTrue(Double.isFinite(r.value()), () -> "non-finite value " + r.value() + " for " + c);
        assertArrayEquals(student.shape(), r.studentGradient().shape(), () -> "gradient shape for " + c);
        for (double v : r.studentGradient().castTo(DataType.DOUBLE).dup('c').data().asDouble()) {
            assertTrue(Double.isFinite(v), () -> "non-finite gradient for " + c);
        }
        FINITE.merge(c.loss(), 1, Integer::sum);
    }

    private static long[] shape(Case c, int channels) {
        return switch (c.rank()) {
            case 2 -> new long[] {c.batch(), channels * c.size()};
            case 3 -> new long[] {c.batch(), channels, c.size()};
            default -> new long[] {c.batch(), channels, c.size(), c.size()};
        };
    }

    private static INDArray values(Random rnd, long[] shape, Case c) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = (rnd.nextDouble() * 2 - 1) * c.scale();
        }
        if (c.special() >= 0) {
            d[rnd.nextInt(n)] = SPECIAL[c.special()];
        }
        return Nd4j.create(d, shape, DataType.DOUBLE);
    }
}
