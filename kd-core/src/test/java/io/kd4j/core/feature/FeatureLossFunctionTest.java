package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.feature.FeatureInput;
import io.kd4j.losses.feature.RkdDistance;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.databind.ObjectMapper;

class FeatureLossFunctionTest {

    private static INDArray random(long seed, long... shape) {
        Random r = new Random(seed);
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextGaussian());
        }
        return a;
    }

    @Test
    void givenConvMaps_whenEvaluatedByDl4j_thenScoreIsWeightedBatchValueAndGradientNTimesIt() {
        // student [4, 2, 3, 3] flattened to [4, 18]; teacher [4, 3, 3, 3] flattened to [4, 27]
        INDArray s = random(1, 4, 2, 3, 3);
        INDArray t = random(2, 4, 3, 3, 3);
        FeatureLossFunction fn = new FeatureLossFunction("rkd", "RkdDistance", 25.0, new long[] {2, 3, 3},
                new long[] {3, 3, 3}, false);
        LossResult direct = RkdDistance.create().compute(FeatureInput.of(s, t));
        INDArray sf = s.reshape('c', 4, 18);
        INDArray tf = t.reshape('c', 4, 27);
        INDArray scores = fn.computeScoreArray(tf, sf, new ActivationIdentity(), null);
        for (int i = 0; i < 4; i++) {
            assertEquals(25.0 * direct.value(), scores.getDouble(i, 0), 1e-12);
        }
        assertEquals(25.0 * direct.value(), fn.computeScore(tf, sf, new ActivationIdentity(), null, true), 1e-12);
        INDArray g = fn.computeGradient(tf, sf, new ActivationIdentity(), null);
        // DL4J divides by the minibatch size: n * weight * dL/ds, flattened per example
        assertTrue(g.equalsWithEps(direct.studentGradient().reshape('c', 4, 18).mul(4 * 25.0), 1e-12));
        assertEquals(direct.value(), fn.lastValue(), 0.0);
    }

    @Test
    void givenRecurrentTapWithMask_whenEvaluated_thenMaskTravelsInTheLabels() {
        // [2, size 3, time 4]; labels = [teacher flat (12) | mask (4)]
        INDArray s = random(3, 2, 3, 4);
        INDArray t = random(4, 2, 3, 4);
        INDArray mask = Nd4j.create(new double[][] {{1, 1, 1, 0}, {1, 1, 0, 0}});
        FeatureLossFunction fn = new FeatureLossFunction("cos", "CosineEmbedding", 1.0, new long[] {3, 4},
                new long[] {3, 4}, true);
        LossResult direct = io.kd4j.losses.feature.CosineEmbedding.create().compute(new FeatureInput(s, t, mask));
        INDArray labels = Nd4j.hstack(t.reshape('c', 2, 12), mask);
        assertEquals(direct.value(), fn.computeScore(labels, s.reshape('c', 2, 12), new ActivationIdentity(), null,
                true), 1e-12);
        INDArray g = fn.computeGradient(labels, s.reshape('c', 2, 12), new ActivationIdentity(), null);
        assertTrue(g.equalsWithEps(direct.studentGradient().reshape('c', 2, 12).mul(2), 1e-12));
        assertEquals(0.0, g.getDouble(0, 3), 0.0); // example 0, size 0, time 3 is masked
    }

    @Test
    void givenFunction_whenJsonRoundTripped_thenEqual() throws Exception {
        FeatureLossFunction fn = new FeatureLossFunction("at", "AttentionTransfer(p=3.0)", 1000.0, new long[] {4, 2, 2},
                new long[] {8, 2, 2}, false);
        ObjectMapper json = new ObjectMapper();
        ILossFunction back = json.readValue(json.writeValueAsString(fn), FeatureLossFunction.class);
        assertEquals(fn, back);
        assertEquals("AttentionTransfer(p=3.0)", ((FeatureLossFunction) back).featureLoss().describe());
    }

    @Test
    void givenBadShapesOrLoss_whenUsed_thenClearErrors() {
        FeatureLossFunction fn = new FeatureLossFunction("hint", "FitNetsHint", 1.0, new long[] {3}, new long[] {3},
                false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fn.computeScore(random(1, 2, 4), random(2, 2, 4), new ActivationIdentity(), null, true));
        assertEquals("feature term hint: expected student [2, 3] and labels [2, 3] (teacher [3]), got [2, 4] and [2, 4]",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FeatureLossFunction("x", "CrossEntropy", 1.0,
                new long[] {3}, new long[] {3}, false));
        assertTrue(e.getMessage().startsWith("'CrossEntropy' is not a feature loss"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FeatureLossFunction("x", "Pkt", Double.NaN,
                new long[] {3}, new long[] {3}, false));
        assertEquals("weight of feature term x must be finite and >= 0, got NaN", e.getMessage());
    }

    @Test
    void givenStackedTeachers_whenEvaluated_thenValueAndGradientAreWeightedSumsOfPerTeacherLosses() {
        // two teachers [4, 3, 2, 2] side by side: labels [4, 2 * 12]; weights 1 : 3 -> 0.25, 0.75
        INDArray s = random(5, 4, 3, 2, 2);
        INDArray t0 = random(6, 4, 3, 2, 2);
        INDArray t1 = random(7, 4, 3, 2, 2);
        for (String loss : new String[] {"FitNetsHint", "RkdDistance", "AttentionTransfer(p=2.0)"}) {
            FeatureLossFunction fn = new FeatureLossFunction("f", loss, 2.0, new long[] {3, 2, 2}, new long[] {3, 2, 2},
                    false, new double[] {1, 3});
            LossResult r0 = FeatureLossFunction.parse(loss).compute(FeatureInput.of(s, t0));
            LossResult r1 = FeatureLossFunction.parse(loss).compute(FeatureInput.of(s, t1));
            INDArray labels = Nd4j.hstack(t0.reshape('c', 4, 12), t1.reshape('c', 4, 12));
            INDArray sf = s.reshape('c', 4, 12);
            double expected = 0.25 * r0.value() + 0.75 * r1.value();
            assertEquals(2.0 * expected, fn.computeScore(labels, sf, new ActivationIdentity(), null, true), 1e-10, loss);
            assertEquals(expected, fn.lastValue(), 1e-10, loss);
            INDArray g = fn.computeGradient(labels, sf, new ActivationIdentity(), null);
            INDArray ref = r0.studentGradient().mul(0.25).addi(r1.studentGradient().mul(0.75)).reshape('c', 4, 12)
                    .mul(4 * 2.0);
            assertTrue(g.equalsWithEps(ref, 1e-10), loss + ": gradient is n * weight * the weighted sum");
        }
    }

    @Test
    void givenStackedTeachers_whenJsonRoundTrippedOrStateful_thenWeightsSurviveAndCrdIsRefused() throws Exception {
        FeatureLossFunction fn = new FeatureLossFunction("hint", "FitNetsHint", 1.0, new long[] {3}, new long[] {3},
                false, new double[] {2, 2});
        ObjectMapper json = new ObjectMapper();
        assertEquals(fn, json.readValue(json.writeValueAsString(fn), FeatureLossFunction.class));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FeatureLossFunction("c",
                "Crd", 1.0, new long[] {3}, new long[] {3}, false, new double[] {1, 1}));
        assertEquals("feature term c: Crd keeps a memory of teacher embeddings across steps and cannot average 2 "
                + "teachers; use one teacher or another loss", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> fn.computeScore(random(1, 2, 3), random(2, 2, 3),
                new ActivationIdentity(), null, true));
        assertEquals("feature term hint: expected student [2, 3] and labels [2, 6] (teacher 2 x [3]), got [2, 3] and "
                + "[2, 3]", e.getMessage());
    }
}
