package io.kd4j.core.strategy;

import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.OutputLayers;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A mean teacher: the teacher is an exponential moving average of the student's parameters
 * (Tarvainen and Valpola, "Mean teachers are better role models", NeurIPS 2017; the EMA teacher of
 * FedEMA-Distill and of self-distillation methods such as DINO):
 * <pre>
 *   theta_teacher &lt;- decay · theta_teacher + (1 - decay) · theta_student      after every optimizer step
 * </pre>
 * starting from the student's initial parameters. The average is updated by the DL4J listener
 * {@link #updater()}, which must be added to the distiller ({@code Distiller.Builder.listener}); it
 * only does arithmetic on parameter arrays (outside any workspace), never a forward pass. The teacher's
 * forward pass runs, like every teacher's, in the data pipeline before the student's fit sees a batch,
 * on a private inference copy of the student's configuration with an identity output activation.
 *
 * <p>The student given to the distiller must be the network this teacher was built from (same
 * configuration; its training copy has the same parameter layout); a different parameter count is an
 * error. MultiLayerNetwork students only. The fingerprint changes with every update, so an EMA teacher
 * cannot be cached.
 */
public final class EmaTeacher implements Teacher {
    private final MultiLayerNetwork logitNet;
    private final INDArray ema;
    private final double decay;
    private final String configJson;
    private long updates;

    private EmaTeacher(MultiLayerNetwork student, double decay) {
        Objects.requireNonNull(student, "student network must not be null");
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay must be in [0, 1], got " + decay);
        }
        INDArray params = student.params();
        if (params == null) {
            throw new IllegalArgumentException("student network has no parameters: call init() first");
        }
        MultiLayerConfiguration conf = student.getLayerWiseConfigurations().clone();
        Layer out = OutputLayers.require(conf.getConf(conf.getConfs().size() - 1), "the student's last layer");
        OutputLayers.setActivation(out, new ActivationIdentity());
        this.logitNet = new MultiLayerNetwork(conf);
        this.logitNet.init(params.dup(), false);
        this.ema = logitNet.params();
        this.decay = decay;
        this.configJson = student.getLayerWiseConfigurations().toJson();
    }

    /**
     * An EMA teacher of {@code student}, starting from its current parameters.
     *
     * @param decay the EMA decay in [0, 1]: 0 copies the student after every step, 1 freezes the
     *              initial parameters; mean-teacher setups use 0.99 to 0.999
     */
    public static EmaTeacher of(MultiLayerNetwork student, double decay) {
        return new EmaTeacher(student, decay);
    }

    /** The listener that updates the average after every optimizer step; add it to the distiller. */
    public TrainingListener updater() {
        return new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                update(model.params());
            }
        };
    }

    /** One EMA step towards {@code studentParams} (what {@link #updater()} calls after each step). */
    public synchronized void update(INDArray studentParams) {
        if (studentParams.length() != ema.length()) {
            throw new IllegalArgumentException("the student being trained has " + studentParams.length()
                    + " parameters but this EMA teacher was built from a network with " + ema.length());
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray s = studentParams.reshape(ema.shape()).castTo(ema.dataType());
            ema.muli(decay).addi(s.mul(1.0 - decay));
        }
        updates++;
    }

    /** The number of EMA updates so far. */
    public synchronized long updates() {
        return updates;
    }

    /** A copy of the averaged parameters. */
    public synchronized INDArray parameters() {
        return ema.dup();
    }

    /** The decay. */
    public double decay() {
        return decay;
    }

    @Override
    public synchronized INDArray logits(TeacherBatch batch) {
        return logitNet.output(batch.features(), false, batch.featuresMask(), null);
    }

    @Override
    public String describe() {
        return "EmaTeacher(decay=" + decay + ", " + ema.length() + " parameters, " + updates() + " updates)";
    }

    @Override
    public synchronized String fingerprint() {
        return Fingerprints.of("ema|" + decay + "|" + configJson, ema);
    }
}
