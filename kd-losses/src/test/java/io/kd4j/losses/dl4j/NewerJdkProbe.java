package io.kd4j.losses.dl4j;

import io.kd4j.losses.kernels.Kernels;
import java.util.Random;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Run by {@link NewerJdkTest} in a child JVM (and in the test's own): one step of Hinton's objective through
 * the DL4J adapter on float32 off-heap arrays, printing the kernel in use, the score and the gradient's sum
 * of squares.
 */
public final class NewerJdkProbe {
    static final int ROWS = 8;
    static final int CLASSES = 1000;

    private NewerJdkProbe() {
    }

    /** The score and the gradient's sum of squares of the probe's step. */
    static double[] step() {
        TargetLayout layout = new TargetLayout(CLASSES, 0);
        Random rnd = new Random(11);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, ROWS, layout.width());
        INDArray pre = Nd4j.zeros(DataType.FLOAT, ROWS, CLASSES);
        for (int i = 0; i < ROWS; i++) {
            labels.putScalar(i, rnd.nextInt(CLASSES), 1.0);
            for (int j = 0; j < CLASSES; j++) {
                labels.putScalar(i, CLASSES + j, rnd.nextGaussian() * 3);
                pre.putScalar(i, j, rnd.nextGaussian() * 3);
            }
        }
        DistillationLossFunction f = new DistillationLossFunction(
                "0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)", CLASSES, 0);
        Pair<Double, INDArray> r = f.computeGradientAndScore(labels, pre, new ActivationIdentity(), null, true);
        if (!f.lastEvaluationFused()) {
            throw new IllegalStateException("the fused path did not run");
        }
        INDArray g = r.getSecond().castTo(DataType.DOUBLE);
        return new double[] {r.getFirst(), g.mul(g).sumNumber().doubleValue()};
    }

    public static void main(String[] args) {
        double[] r = step();
        System.out.println("KERNELS " + Kernels.describe());
        System.out.println("SCORE " + r[0]);
        System.out.println("GRADIENT_SQUARES " + r[1]);
    }
}
