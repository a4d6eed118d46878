package io.kd4j.examples.bench;

import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.kernels.DenseRows;
import io.kd4j.losses.kernels.FusedObjective;
import io.kd4j.losses.kernels.FusedResult;
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
 * Each hot loss, value and gradient: the fused kernel ({@code io.kd4j.losses.kernels}, reading and
 * writing the ND4J arrays in place) against the same loss composed from ND4J operations. float32,
 * except {@code KD-f64} (the KD kernel on float64 arrays). The formulas are in {@link #formula}.
 * Inputs are generated in the setup: Gaussian logits (standard deviation 3), random hard labels, LTKD's
 * three class groups by class index (thirds), and for {@code TopK-KL} the teacher's 32 largest classes
 * per row with their log-probabilities at T = 2, packed {@code [32 indices | 32 log-probabilities]} for
 * the kernel and scattered into dense arrays for the ND4J composition (the scatter is not timed).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class KernelBench {
    /** k of the top-k teacher. */
    static final int TOP_K = 32;

    @Param({"256x1000", "2048x32000", "16x32000x128"})
    public String shape;

    @Param({"KD", "CE+KD", "ReverseKl", "TVD", "JSD", "DKD", "LTKD", "TopK-KL", "KD-f64"})
    public String loss;

    private Shapes.Shape dims;
    private INDArray student;
    private INDArray teacher;
    private INDArray oneHot;
    private INDArray mask;
    private INDArray grad;
    private int[] labels;
    private FusedObjective fused;
    private DenseRows teacherRows;
    private INDArray groups;
    private SparseTeacher sparse;

    /** The catalogue formula each benchmarked loss stands for. */
    static String formula(String loss, int classes) {
        return switch (loss) {
            case "KD", "KD-f64" -> "SoftTargetKl(temperature=4.0)";
            case "CE+KD" -> "0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)";
            case "ReverseKl" -> "ReverseKl(temperature=2.0)";
            case "TVD" -> "TotalVariation(temperature=2.0)";
            case "JSD" -> "JensenShannon(temperature=2.0)";
            case "DKD" -> "Dkd(temperature=4.0, targetWeight=1.0, nonTargetWeight=8.0, warmupEpochs=1.0)";
            case "LTKD" -> "Ltkd(temperature=4.0, classGroups=" + Shapes.thirds(classes) + ")";
            case "TopK-KL" -> "SparseTopKKl(temperature=2.0)";
            // KernelProfile's only (not in the suite): Hinton's objective and DKD's recipe with label smoothing
            case "CEls+KD" -> "0.1*CrossEntropy(labelSmoothing=0.1) + 0.9*SoftTargetKl(temperature=4.0)";
            case "CEls+DKD" -> "CrossEntropy(labelSmoothing=0.1) + Dkd(temperature=4.0, targetWeight=1.0, "
                    + "nonTargetWeight=8.0, warmupEpochs=1.0)";
            // LTKD without its rebalancing pass over the teacher: the difference is that pass's share
            case "LTKDnr" -> "Ltkd(temperature=4.0, rebalance=false, classGroups=" + Shapes.thirds(classes) + ")";
            case "KDstd" -> "SoftTargetKl(temperature=2.0, standardize=true)";
            case "DKDstd" -> "Dkd(temperature=2.0, targetWeight=1.0, nonTargetWeight=8.0, warmupEpochs=1.0, "
                    + "standardize=true)";
            default -> throw new IllegalArgumentException("unknown loss " + loss);
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        dims = Shapes.parse(shape);
        int n = dims.rows();
        int c = dims.classes();
        DataType type = loss.equals("KD-f64") ? DataType.DOUBLE : DataType.FLOAT;
        student = Shapes.logits(n, c, 1).castTo(type);
        teacher = Shapes.logits(n, c, 2).castTo(type);
        grad = Nd4j.createUninitialized(type, n, c);
        labels = Shapes.labels(n, c);
        if (dims.valid() != null) {
            mask = Nd4j.createUninitialized(type, n, 1);
            for (int i = 0; i < n; i++) {
                mask.putScalar(i, 0, dims.valid()[i] ? 1 : 0);
            }
        }
        if (loss.equals("CE+KD") || loss.equals("DKD")) {
            oneHot = Nd4j.zeros(type, n, c);
            for (int i = 0; i < n; i++) {
                oneHot.putScalar(i, labels[i], 1.0);
            }
        }
        if (loss.startsWith("LTKD")) {
            groups = Shapes.thirdsMatrix(c);
        }
        teacherRows = DenseRows.of(teacher);
        if (loss.equals("TopK-KL")) {
            sparse = SparseTeacher.of(teacher, TOP_K, 2.0);
            teacherRows = DenseRows.of(sparse.packed());
        }
        fused = FusedObjective.compile(Objective.parse(formula(loss, c)), 1.0).orElseThrow();
    }

    @Benchmark
    public double fused() {
        return fusedResult().value();
    }

    /** The fused evaluation; the gradient is in {@link #fusedGradient()}. */
    FusedResult fusedResult() {
        return fused.evaluate(DenseRows.of(student), teacherRows, fused.needsLabels() ? labels : null, dims.valid(),
                DenseRows.of(grad), 1.0 / dims.validRows());
    }

    INDArray fusedGradient() {
        return grad;
    }

    @Benchmark
    public double nd4j() {
        Nd4jLosses.Out o = nd4jResult();
        return o.value() + o.grad().getDouble(0, 0);
    }

    /** The ND4J composition's value and gradient. */
    Nd4jLosses.Out nd4jResult() {
        int v = dims.validRows();
        return switch (loss) {
            case "KD", "KD-f64" -> Nd4jLosses.kd(student, teacher, mask, v, 4);
            case "CE+KD" -> Nd4jLosses.ceKd(student, teacher, oneHot, mask, v, 4);
            case "ReverseKl" -> Nd4jLosses.reverseKl(student, teacher, mask, v, 2);
            case "TVD" -> Nd4jLosses.totalVariation(student, teacher, mask, v, 2);
            case "JSD" -> Nd4jLosses.jensenShannon(student, teacher, mask, v, 2);
            case "DKD" -> Nd4jLosses.dkd(student, teacher, oneHot, mask, v, 4, 1, 8);
            case "LTKD" -> Nd4jLosses.ltkd(student, teacher, groups, mask, v, 4);
            case "TopK-KL" -> Nd4jLosses.sparseKl(student, sparse.prob(), sparse.logProb(), sparse.top(), sparse.rest(),
                    sparse.logRest(), mask, v, 2);
            default -> throw new IllegalArgumentException(loss);
        };
    }
}
