package io.kd4j.losses.feature;

import static io.kd4j.losses.testing.FeatureChecks.array;
import static io.kd4j.losses.testing.FeatureChecks.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.testing.FeatureChecks;
import io.kd4j.losses.testing.FeatureReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class VidTest {
    private final Vid vid = Vid.withVarianceEpsilon(1e-5);

    @Test
    void givenVarianceTwo_whenComputed_thenMatchesHandArithmetic() {
        // rho = log(expm1(2 - 1e-5)) so softplus(rho) + 1e-5 = 2; mu = 1, t = 3: d = -2
        // L = 0.5 (4 / 2 + ln 2) = 1.3465736; dL/dmu = d / var = -1
        // dL/drho = 0.5 (1/2 - 4/4) sigmoid(rho) = -0.25 (1 - e^-(2 - 1e-5)) = -0.25 * 0.8646634 = -0.2161659
        double rho = Math.log(Math.expm1(2 - 1e-5));
        LossResult r = vid.compute(FeatureInput.of(array(new double[] {1, rho}, 1, 2), array(new double[] {3}, 1, 1)));
        assertEquals(0.5 * (2 + Math.log(2)), r.value(), 1e-12);
        assertEquals(-1.0, r.studentGradient().getDouble(0, 0), 1e-12);
        assertEquals(-0.25 * (1 - Math.exp(-(2 - 1e-5))), r.studentGradient().getDouble(0, 1), 1e-12);
        assertEquals(rho, vid.rawForVariance(2.0), 1e-12);
    }

    @Test
    void givenRandomConvMaps_whenComputed_thenMatchesRepDistillerFormula() {
        INDArray s = random(1, 2, 2, 6, 2, 2); // [mu (3 ch) | rho (3 ch)]
        INDArray t = random(2, 2, 2, 3, 2, 2);
        double[] flat = s.data().asDouble();
        // per example 24 values: mu = channels 0..2 (12 values), rho = channels 3..5 (12 values)
        double[] mu = new double[24];
        double[] raw = new double[24];
        for (int b = 0; b < 2; b++) {
            System.arraycopy(flat, b * 24, mu, b * 12, 12);
            System.arraycopy(flat, b * 24 + 12, raw, b * 12, 12);
        }
        assertEquals(FeatureReference.vid(mu, raw, t.data().asDouble(), 1e-5), FeatureChecks.value(vid, s, t), 1e-14);
    }

    @Test
    void givenRandomInputs_whenGradientChecked_thenMatchesFiniteDifferences() {
        FeatureChecks.assertGradient(vid, random(3, 2, 3, 4), random(4, 2, 3, 2), null);
        FeatureChecks.assertGradient(vid, random(5, 2, 2, 4, 2, 2), random(6, 2, 2, 2, 2, 2), null);
        FeatureChecks.assertGradient(vid, random(7, 2, 2, 4, 3), random(8, 2, 2, 2, 3),
                FeatureChecks.mask(2, 3, new int[] {1, 2}));
    }

    @Test
    void givenMeanEqualsTeacher_whenComputed_thenMeanGradientZeroAndVarianceShrinks() {
        // mu = t: the NLL is 0.5 log(var), minimised by the smallest variance: dL/drho > 0
        INDArray t = random(9, 2, 2, 3);
        INDArray s = org.nd4j.linalg.factory.Nd4j.concat(1, t, random(10, 1, 2, 3));
        LossResult r = vid.compute(FeatureInput.of(s, t));
        for (int i = 0; i < 3; i++) {
            assertEquals(0.0, r.studentGradient().getDouble(0, i), 0.0);
            assertEquals(true, r.studentGradient().getDouble(0, 3 + i) > 0);
        }
    }

    @Test
    void givenBadInputs_whenComputed_thenClearErrors() {
        FeatureChecks.assertRejectsGenericBadInputs(vid, random(11, 1, 3, 4), random(12, 1, 3, 2));
        FeatureChecks.assertMessage("Vid: student_features must have 2 x the teacher's channels [mean | pre-softplus "
                + "variance] = 4, got 3", () -> vid.compute(FeatureInput.of(random(1, 1, 3, 3), random(1, 1, 3, 2))));
        FeatureChecks.assertMessage("varianceEpsilon must be > 0 and finite, got 0.0", () -> Vid.withVarianceEpsilon(0));
        FeatureChecks.assertFloat32MatchesFloat64(vid, random(13, 3, 4, 6), random(14, 3, 4, 3));
        FeatureChecks.assertCatalogueEntry("Vid", Map.of(), "Vid(varianceEpsilon=1.0E-5)");
    }
}
