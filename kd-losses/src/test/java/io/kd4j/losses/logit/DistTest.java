package io.kd4j.losses.logit;

import static io.kd4j.losses.testing.LossChecks.assertFinite;
import static io.kd4j.losses.testing.LossChecks.assertGradientMatchesFiniteDifferences;
import static io.kd4j.losses.testing.LossChecks.assertRowsSumToZero;
import static io.kd4j.losses.testing.LossChecks.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TemperatureSchedule;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.testing.LossChecks;
import io.kd4j.losses.testing.Reference;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DistTest {

    private static Dist dist(double beta, double gamma, double tau) {
        return new Dist(beta, gamma, TemperatureSchedule.constant(tau));
    }

    /** {@code pearson_correlation(x, y, eps=1e-8)}: cosine of the centred vectors, eps added to the norm product. */
    static double pearson(double[] x, double[] y) {
        double mx = 0;
        double my = 0;
        for (int k = 0; k < x.length; k++) {
            mx += x[k] / x.length;
            my += y[k] / y.length;
        }
        double dot = 0;
        double nx = 0;
        double ny = 0;
        for (int k = 0; k < x.length; k++) {
            dot += (x[k] - mx) * (y[k] - my);
            nx += (x[k] - mx) * (x[k] - mx);
            ny += (y[k] - my) * (y[k] - my);
        }
        return dot / (Math.sqrt(nx) * Math.sqrt(ny) + 1e-8);
    }

    private static double[][] transpose(double[][] a) {
        double[][] out = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[j][i] = a[i][j];
            }
        }
        return out;
    }

    private static double[][] softmaxRows(double[][] z, double tau) {
        double[][] out = new double[z.length][];
        for (int i = 0; i < z.length; i++) {
            out[i] = Reference.softmax(z[i], tau);
        }
        return out;
    }

    /** {@code 1 - pearson_correlation(y_s, y_t).mean()} over the rows of the given matrices. */
    private static double relation(double[][] ys, double[][] yt) {
        double sum = 0;
        for (int i = 0; i < ys.length; i++) {
            sum += pearson(ys[i], yt[i]);
        }
        return 1 - sum / ys.length;
    }

    /** hunto's {@code DIST.forward}: tau² (beta inter_class_relation + gamma intra_class_relation). */
    static double referenceDist(double[][] s, double[][] t, double beta, double gamma, double tau) {
        double[][] ys = softmaxRows(s, tau);
        double[][] yt = softmaxRows(t, tau);
        return tau * tau * (beta * relation(ys, yt) + gamma * relation(transpose(ys), transpose(yt)));
    }

    @Test
    void givenTwoRowsThreeClasses_whenComputed_thenMatchesHandArithmetic() {
        // Student rows softmax([ln2,0,0]) = [1/2,1/4,1/4], softmax([0,ln2,0]) = [1/4,1/2,1/4];
        // teacher rows [1/2,1/4,1/4], [1/4,1/4,1/2] (tau = 1).
        // Rows: rho_0 = 1; row 1: u = [-1/12, 1/6, -1/12], v = [-1/12, -1/12, 1/6], u.v = -1/48,
        //   |u|² = |v|² = 1/24, rho_1 = -1/2; inter = 1 - (1 - 1/2)/2 = 3/4
        // Columns over the batch: col 0 student [1/2,1/4], teacher [1/2,1/4]: rho = 1;
        //   col 1 teacher [1/4,1/4] constant: rho = 0; col 2 student [1/4,1/4] constant: rho = 0
        //   intra = 1 - 1/3 = 2/3;  L = 3/4 + 2/3 = 17/12 = 1.4166667
        // (eps = 1e-8 over norm products of 1/24 and 1/32 moves this by < 4e-7)
        double l2 = Math.log(2);
        INDArray s = matrix(new double[][] {{l2, 0, 0}, {0, l2, 0}});
        INDArray t = matrix(new double[][] {{l2, 0, 0}, {0, 0, l2}});
        LossResult r = Dist.create().compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(17.0 / 12, r.value(), 1e-6);
        assertEquals(0.75, r.terms().get("inter"), 1e-6);
        assertEquals(2.0 / 3, r.terms().get("intra"), 1e-6);
        assertEquals(referenceDist(s.toDoubleMatrix(), t.toDoubleMatrix(), 1, 1, 1), r.value(), 1e-12);
    }

    @ParameterizedTest
    @CsvSource({"1.0, 1.0, 1.0", "2.0, 0.5, 4.0", "1.0, 0.0, 2.0", "0.0, 1.0, 1.0"})
    void givenRandomLogits_whenComputed_thenEqualsHuntoDist(double beta, double gamma, double tau) {
        Random rnd = new Random(103);
        INDArray s = LossChecks.randomLogits(rnd, 5, 6, 10);
        INDArray t = LossChecks.randomLogits(rnd, 5, 6, 10);
        LossResult r = dist(beta, gamma, tau).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(referenceDist(s.toDoubleMatrix(), t.toDoubleMatrix(), beta, gamma, tau), r.value(), 1e-12);
        assertEquals(r.value(), r.terms().get("inter") + r.terms().get("intra"), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0})
    void givenRandomLogits_whenGradientChecked_thenMatchesFiniteDifferences(double tau) {
        Random rnd = new Random(107);
        INDArray s = LossChecks.randomLogits(rnd, 3, 4, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 4, 5);
        assertGradientMatchesFiniteDifferences(dist(1.5, 0.7, tau), s, b -> b.teacherLogits(t));
    }

    @Test
    void givenSequenceWithMask_whenComputed_thenValidPositionsAreTheRowsAndGradientMatches() {
        // [batch=2, classes=4, time=3], position (0, 1) masked: the 5 valid positions are DIST's rows
        Random rnd = new Random(109);
        INDArray s = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray t = LossChecks.randomLogits(rnd, 3, 2, 4, 3);
        INDArray mask = matrix(new double[][] {{1, 0, 1}, {1, 1, 1}});
        Dist loss = Dist.create();
        LossResult r = loss.compute(LossInput.of(s).teacherLogits(t).mask(mask).build());
        double[][] sr = new double[5][4];
        double[][] tr = new double[5][4];
        int k = 0;
        for (int b = 0; b < 2; b++) {
            for (int step = 0; step < 3; step++) {
                if (mask.getDouble(b, step) == 1) {
                    for (int c = 0; c < 4; c++) {
                        sr[k][c] = s.getDouble(b, c, step);
                        tr[k][c] = t.getDouble(b, c, step);
                    }
                    k++;
                }
            }
        }
        assertEquals(referenceDist(sr, tr, 1, 1, 1), r.value(), 1e-12);
        for (int c = 0; c < 4; c++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, c, 1), 0.0, "masked position has zero gradient");
        }
        assertGradientMatchesFiniteDifferences(loss, s, b -> b.teacherLogits(t).mask(mask));
    }

    @Test
    void givenStudentEqualsTeacher_whenComputed_thenOnlyTheEpsResidualRemainsAndRowsSumToZero() {
        // rho(a, a) = |u|² / (|u|² + eps), so L = tau² (beta mean eps/(|u_i|²+eps) + gamma mean eps/(|u_j|²+eps))
        Random rnd = new Random(113);
        INDArray s = LossChecks.randomLogits(rnd, 4, 3, 7);
        double tau = 2.0;
        LossResult r = dist(1, 1, tau).compute(LossInput.of(s).teacherLogits(s.dup()).build());
        double[][] y = softmaxRows(s.toDoubleMatrix(), tau);
        double expected = tau * tau * (epsResidual(y) + epsResidual(transpose(y)));
        assertEquals(expected, r.value(), 1e-15);
        // the gradient there (d rho / d u = u eps / D², not zero) is still the derivative of the value
        assertGradientMatchesFiniteDifferences(dist(1, 1, tau), s, b -> b.teacherLogits(s.dup()));
        LossResult other = dist(1, 1, tau).compute(LossInput.of(s).teacherLogits(s.mul(0.5)).build());
        assertRowsSumToZero(other.studentGradient(), 1e-12);
    }

    private static double epsResidual(double[][] rows) {
        double sum = 0;
        for (double[] a : rows) {
            double m = 0;
            for (double v : a) {
                m += v / a.length;
            }
            double uu = 0;
            for (double v : a) {
                uu += (v - m) * (v - m);
            }
            sum += 1e-8 / (uu + 1e-8);
        }
        return sum / rows.length;
    }

    @Test
    void givenBatchRepeated_whenComputed_thenInterTermUnchangedAndIntraWithinEps() {
        Random rnd = new Random(127);
        INDArray s = LossChecks.randomLogits(rnd, 3, 3, 5);
        INDArray t = LossChecks.randomLogits(rnd, 3, 3, 5);
        LossResult one = Dist.create().compute(LossInput.of(s).teacherLogits(t).build());
        INDArray s2 = Nd4j.vstack(s, s);
        INDArray t2 = Nd4j.vstack(t, t);
        LossResult twice = Dist.create().compute(LossInput.of(s2).teacherLogits(t2).build());
        assertEquals(one.terms().get("inter"), twice.terms().get("inter"), 1e-12);
        assertEquals(referenceDist(s2.toDoubleMatrix(), t2.toDoubleMatrix(), 1, 1, 1), twice.value(), 1e-12);
        // stacking doubles u.v and |u||v|, so rho_j moves from S/(NM + eps) to S/(NM + eps/2): by <= eps/(2 NM)
        double[][] ys = transpose(softmaxRows(s.toDoubleMatrix(), 1));
        double[][] yt = transpose(softmaxRows(t.toDoubleMatrix(), 1));
        double bound = 0;
        for (int j = 0; j < ys.length; j++) {
            bound += 0.5e-8 / (norm(ys[j]) * norm(yt[j])) / ys.length;
        }
        assertEquals(one.terms().get("intra"), twice.terms().get("intra"), bound);
    }

    private static double norm(double[] a) {
        double m = 0;
        for (double v : a) {
            m += v / a.length;
        }
        double ss = 0;
        for (double v : a) {
            ss += (v - m) * (v - m);
        }
        return Math.sqrt(ss);
    }

    @Test
    void givenExtremeFloat32Logits_whenComputed_thenFinite() {
        INDArray s = Nd4j.create(new float[][] {{1e4f, -1e4f, 0f}, {-1e4f, 1e4f, 3f}, {2f, 1f, 1e4f}});
        INDArray t = Nd4j.create(new float[][] {{-1e4f, 1e4f, 0f}, {1e4f, -1e4f, 3f}, {1e4f, 0f, -1e4f}});
        LossResult r = Dist.create().compute(LossInput.of(s).teacherLogits(t).build());
        assertTrue(Double.isFinite(r.value()));
        assertEquals(DataType.FLOAT, r.studentGradient().dataType());
        assertFinite(r.studentGradient(), "gradient");
    }

    @Test
    void givenOneValidRow_whenIntraTermOn_thenClearErrorAndWithoutItInterOnly() {
        INDArray s = matrix(new double[][] {{0.1, 0.5, -0.3}});
        INDArray t = matrix(new double[][] {{0.4, -0.5, 0.3}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dist.create().compute(LossInput.of(s).teacherLogits(t).build()));
        assertEquals("Dist: the intra-class term correlates each class over the rows and needs at least 2 valid rows, "
                + "got 1 (set intraClassWeight=0 to use single rows)", e.getMessage());
        LossResult r = dist(1, 0, 1).compute(LossInput.of(s).teacherLogits(t).build());
        assertEquals(referenceDist(s.toDoubleMatrix(), t.toDoubleMatrix(), 1, 0, 1), r.value(), 1e-12);
    }

    @Test
    void givenBadInputs_whenBuiltOrComputed_thenClearErrors() {
        assertEquals("interClassWeight must be >= 0 and finite, got -1.0", assertThrows(IllegalArgumentException.class,
                () -> dist(-1, 1, 1)).getMessage());
        assertEquals("intraClassWeight must be >= 0 and finite, got Infinity",
                assertThrows(IllegalArgumentException.class, () -> dist(1, Double.POSITIVE_INFINITY, 1)).getMessage());
        assertEquals("temperature must be > 0 and finite, got -2.0", assertThrows(IllegalArgumentException.class,
                () -> dist(1, 1, -2)).getMessage());
        INDArray s = matrix(new double[][] {{0, 1, 2}, {1, 0, 2}});
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Dist.create().compute(
                LossInput.of(s).teacherLogits(matrix(new double[][] {{0, 1}, {1, 0}})).build()));
        assertTrue(shape.getMessage().contains("teacher_logits shape [2, 2] must equal student_logits shape [2, 3]"),
                shape.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> Dist.create().compute(
                LossInput.of(matrix(new double[][] {{0, 1, 2}, {1, Double.NaN, 2}})).teacherLogits(s).build()));
        assertTrue(nan.getMessage().contains("student_logits must be finite, got NaN at row 1, class 1"),
                nan.getMessage());
    }

    @Test
    void givenCatalogue_whenCreatedAndDescribed_thenDefaultsRoundTripAndNoRowValues() {
        String described = "Dist(interClassWeight=1.0, intraClassWeight=1.0, temperature=1.0)";
        assertEquals(described, LossCatalogue.create("dist").describe());
        assertEquals("1.0*CrossEntropy + 2.0*" + described, Objective.parse("CrossEntropy + 2*Dist").describe());
        INDArray s = matrix(new double[][] {{0, 1, 2}, {1, 0, 2}});
        LogitRows rows = LogitRows.ofMatrix(s.data().asDouble(), s.mul(2).data().asDouble(), null, 0, null, null, 2, 3,
                null, DataType.DOUBLE, "Dist");
        assertNull(Dist.create().evaluate(rows, 1.0).rowValues(), "batch-coupled: no per-row values");
        assertTrue(LossCatalogue.create("Dist", Map.of("temperature", "4")).describe().contains("temperature=4.0"));
    }
}
