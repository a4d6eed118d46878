package io.kd4j.examples.tasks;

import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An ensemble of mean-variance regressors as one Gaussian teacher (a deep ensemble, Lakshminarayanan
 * et al. 2017). Member {@code m} outputs {@code [μ_m (D) | log σ²_m (D)]}; the teacher block is the
 * ensemble's predictive mean and variance per dimension, the moments of the members' equally weighted
 * mixture,
 * <pre>
 *   mean = (1/M) Σ_m μ_m,     variance = (1/M) Σ_m (σ²_m + (μ_m − mean)²)
 * </pre>
 * laid out {@code [mean (D) | variance (D)]} as {@code GaussianNll} and {@code GaussianKl} read it.
 * {@link #meanOnly()} is the same ensemble as a plain regressor ({@code [mean (D)]}) for {@code RegressionKd}.
 */
public final class GaussianEnsembleTeacher implements Teacher {
    private final List<Teacher> members;
    private final boolean meanOnly;

    private GaussianEnsembleTeacher(List<Teacher> members, boolean meanOnly) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("a Gaussian ensemble needs at least one member");
        }
        this.members = List.copyOf(members);
        this.meanOnly = meanOnly;
    }

    /** The ensemble of frozen members, each returning {@code [μ | log σ²]}. */
    public static GaussianEnsembleTeacher of(List<Teacher> members) {
        return new GaussianEnsembleTeacher(members, false);
    }

    /** This ensemble returning its mean only. */
    public GaussianEnsembleTeacher meanOnly() {
        return new GaussianEnsembleTeacher(members, true);
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        List<double[][]> outs = new ArrayList<>();
        for (Teacher m : members) {
            double[][] out = m.logits(batch).castTo(DataType.DOUBLE).toDoubleMatrix();
            if (out[0].length % 2 != 0) {
                throw new IllegalArgumentException("members must output [mean | log-variance] (an even width), got "
                        + out[0].length + " columns");
            }
            if (!outs.isEmpty() && (out.length != outs.get(0).length || out[0].length != outs.get(0)[0].length)) {
                throw new IllegalArgumentException("members produced different shapes: [" + out.length + ", "
                        + out[0].length + "] and [" + outs.get(0).length + ", " + outs.get(0)[0].length + "]");
            }
            outs.add(out);
        }
        int n = outs.get(0).length;
        int d = outs.get(0)[0].length / 2;
        int width = meanOnly ? d : 2 * d;
        double size = outs.size();
        double[] block = new double[n * width];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double mean = 0;
                for (double[][] out : outs) {
                    mean += out[i][j] / size;
                }
                block[i * width + j] = mean;
                if (!meanOnly) {
                    // the mixture's variance: mean member variance + variance of the member means (>= 0 as written)
                    double variance = 0;
                    for (double[][] out : outs) {
                        variance += (Math.exp(out[i][d + j]) + (out[i][j] - mean) * (out[i][j] - mean)) / size;
                    }
                    block[i * width + d + j] = variance;
                }
            }
        }
        return Nd4j.create(block, new long[] {n, width}, DataType.DOUBLE).castTo(DataType.FLOAT);
    }

    @Override
    public String describe() {
        return "GaussianEnsembleTeacher(" + members.size() + " members" + (meanOnly ? ", mean only" : "") + ")";
    }

    @Override
    public String fingerprint() {
        StringBuilder b = new StringBuilder(meanOnly ? "ensemble-mean" : "ensemble-gaussian");
        members.forEach(m -> b.append('|').append(m.fingerprint()));
        return Fingerprints.of(b.toString(), null);
    }
}
