package io.kd4j.examples.bench;

import io.kd4j.losses.kernels.DenseRows;
import io.kd4j.losses.kernels.FusedObjective;
import io.kd4j.losses.kernels.FusedTerm;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Each hot loss, value and gradient, float32: the fused kernel ({@code io.kd4j.losses.kernels}, reading
 * and writing the ND4J arrays in place) against the same loss composed from ND4J operations.
 * Temperatures: KD 4, the divergences 2.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class KernelBench {
    @Param({"256x1000", "2048x32000", "16x32000x128"})
    public String shape;

    @Param({"KD", "CE+KD", "ReverseKl", "TVD", "JSD"})
    public String loss;

    private Shapes.Shape dims;
    private INDArray student;
    private INDArray teacher;
    private INDArray oneHot;
    private INDArray mask;
    private INDArray grad;
    private int[] labels;
    private FusedObjective fused;

    @Setup(Level.Trial)
    public void setup() {
        dims = Shapes.parse(shape);
        int n = dims.rows();
        int c = dims.classes();
        student = Shapes.logits(n, c, 1);
        teacher = Shapes.logits(n, c, 2);
        grad = Nd4j.createUninitialized(DataType.FLOAT, n, c);
        labels = Shapes.labels(n, c);
        if (dims.valid() != null) {
            mask = Nd4j.createUninitialized(DataType.FLOAT, n, 1);
            for (int i = 0; i < n; i++) {
                mask.putScalar(i, 0, dims.valid()[i] ? 1 : 0);
            }
        }
        if (loss.equals("CE+KD")) {
            oneHot = Nd4j.zeros(DataType.FLOAT, n, c);
            for (int i = 0; i < n; i++) {
                oneHot.putScalar(i, labels[i], 1.0);
            }
        }
        fused = switch (loss) {
            case "KD" -> FusedObjective.of(FusedTerm.softTargetKl(1, 4));
            case "CE+KD" -> FusedObjective.of(FusedTerm.crossEntropy(0.1, 0), FusedTerm.softTargetKl(0.9, 4));
            case "ReverseKl" -> FusedObjective.of(FusedTerm.reverseKl(1, 2));
            case "TVD" -> FusedObjective.of(FusedTerm.totalVariation(1, 2));
            case "JSD" -> FusedObjective.of(FusedTerm.generalizedJsd(1, 2, 0.5));
            default -> throw new IllegalArgumentException("unknown loss " + loss);
        };
    }

    @Benchmark
    public double fused() {
        return fused.evaluate(DenseRows.of(student), DenseRows.of(teacher), fused.needsLabels() ? labels : null,
                dims.valid(), DenseRows.of(grad), 1.0 / dims.validRows()).value();
    }

    @Benchmark
    public double nd4j() {
        int v = dims.validRows();
        Nd4jLosses.Out o = switch (loss) {
            case "KD" -> Nd4jLosses.kd(student, teacher, mask, v, 4);
            case "CE+KD" -> Nd4jLosses.ceKd(student, teacher, oneHot, mask, v, 4);
            case "ReverseKl" -> Nd4jLosses.reverseKl(student, teacher, mask, v, 2);
            case "TVD" -> Nd4jLosses.totalVariation(student, teacher, mask, v, 2);
            case "JSD" -> Nd4jLosses.jensenShannon(student, teacher, mask, v, 2);
            default -> throw new IllegalArgumentException(loss);
        };
        return o.value() + o.grad().getDouble(0, 0);
    }
}
