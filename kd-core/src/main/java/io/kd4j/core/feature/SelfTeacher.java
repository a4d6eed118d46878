package io.kd4j.core.feature;

import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Fingerprints;
import io.kd4j.core.teacher.OutputLayers;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The student as its own teacher (self-distillation): the teacher's logits are the student's own
 * deepest (main) output and its activations the student's own intermediate activations, both with the
 * student's <em>current</em> parameters and detached (no gradient flows back through them), as in "Be
 * Your Own Teacher" (Zhang et al., ICCV 2019), where the deepest classifier teaches the shallow ones.
 *
 * <p>It runs, like every teacher, in the data pipeline before the student's fit sees a batch, on a
 * private inference copy of the student's configuration (identity output activation): before every
 * run it copies the live training graph's parameters into that copy by name (as
 * {@code EmaTeacher(decay=0)} does after every step), so the targets of batch {@code i} come from the
 * student as it is after step {@code i - 1}. It refuses to run while any ND4J workspace is open on
 * the calling thread, i.e. from inside a network's fit or output, where it would invalidate the
 * student's arrays (docs: dl4j-notes, "never run the teacher inside the student's fit").
 *
 * <p>Built by {@code FeatureDistiller.Builder.selfTeacher()} for the student being distilled; its
 * fingerprint changes with every step, so it cannot be cached.
 */
public final class SelfTeacher implements Teacher {
    private final ComputationGraph inference;
    private final String configJson;
    private ComputationGraph source;
    private long runs;

    private SelfTeacher(ComputationGraph inference, String configJson) {
        this.inference = inference;
        this.configJson = configJson;
    }

    /** A self-teacher of {@code student}, starting from its current parameters (not bound to a training graph yet). */
    static SelfTeacher of(Student student) {
        Model net = student.network();
        ComputationGraph base;
        String json;
        if (net instanceof MultiLayerNetwork mln) {
            base = mln.toComputationGraph();
            json = mln.getLayerWiseConfigurations().toJson();
        } else {
            base = (ComputationGraph) net;
            json = base.getConfiguration().toJson();
        }
        if (base.params() == null) {
            throw new IllegalArgumentException("student network has no parameters: call init() first");
        }
        ComputationGraphConfiguration conf = base.getConfiguration().clone();
        String out = conf.getNetworkOutputs().get(0);
        OutputLayers.setActivation(OutputLayers.require(((LayerVertex) conf.getVertices().get(out)).getLayerConf(),
                "student output '" + out + "'"), new ActivationIdentity());
        ComputationGraph copy = new ComputationGraph(conf);
        copy.init(base.params().dup(), false);
        return new SelfTeacher(copy, json);
    }

    /** Follows {@code training}: before each run, its parameters (by name) are copied into the inference copy. */
    synchronized void follow(ComputationGraph training) {
        for (String key : inference.paramTable().keySet()) {
            if (training.getParam(key) == null) {
                throw new IllegalArgumentException("the training graph has no parameter '" + key + "' of the student "
                        + "this self-teacher was built from");
            }
        }
        this.source = training;
    }

    /** How many times the teacher has run (logits or activations) since it was built. */
    public synchronized long runs() {
        return runs;
    }

    private void prepare() {
        if (Nd4j.getWorkspaceManager().anyWorkspaceActiveForCurrentThread()) {
            throw new IllegalStateException("the self-teacher must run in the data pipeline, before fit sees a batch; "
                    + "it was called with an ND4J workspace open on this thread (inside a network's fit or output?), "
                    + "where running a network would invalidate the student's arrays");
        }
        if (source != null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (String key : inference.paramTable().keySet()) {
                    inference.setParam(key, source.getParam(key));
                }
            }
        }
        runs++;
    }

    @Override
    public synchronized INDArray logits(TeacherBatch batch) {
        prepare();
        INDArray[] masks = batch.featuresMask() == null ? null : new INDArray[] {batch.featuresMask()};
        return inference.output(false, new INDArray[] {batch.features()}, masks)[0];
    }

    @Override
    public synchronized Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        if (layers.isEmpty()) {
            return Map.of();
        }
        prepare();
        Map<String, INDArray> all = inference.feedForward(batch.features(), false);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : layers) {
            INDArray a = all.get(name);
            if (a == null) {
                throw new IllegalArgumentException("the student (as its own teacher) has no vertex '" + name
                        + "'; vertices: " + all.keySet());
            }
            out.put(name, a);
        }
        return out;
    }

    @Override
    public synchronized String describe() {
        return "SelfTeacher(the student's own outputs and activations, " + inference.numParams()
                + " parameters, synced before every batch, " + runs + " runs)";
    }

    @Override
    public synchronized String fingerprint() {
        return Fingerprints.of("self|" + configJson, inference.params());
    }
}
