package io.kd4j.core.feature;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.OutputLayers;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.recurrent.TimeDistributed;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The training copy of a student for feature distillation: a ComputationGraph (an MLN student is
 * converted with {@code toComputationGraph()}, its layer {@code i} becoming vertex {@code "i"}) whose
 * main output computes the logit objective and which has one extra output head per {@link Tap}:
 * {@code tap vertex → [adapter] → LossLayer(FeatureLossFunction)}. DL4J's own fit trains it on the
 * MultiDataSets of a {@link FeatureTargetIterator}; the feature losses' gradients reach the student's
 * intermediate layers through the heads. {@link AuxiliaryClassifier Auxiliary classifiers} add
 * {@code tap vertex → [global average pool] → OutputLayer(DistillationLossFunction)} heads trained on
 * the main output's packed targets. {@link #exportPlain()} drops the heads and adapters and
 * returns the plain student (the user's configuration, the trained parameters copied by name).
 *
 * <p>With a teacher of several stacked blocks ({@link Teacher#blockWeights()}, a {@code MultiTeacher}
 * averaging per-teacher losses) each tap's teacher activation holds the members' activations side by
 * side along dimension 1; adapters are sized for one member and the feature loss is averaged over the
 * members ({@link FeatureLossFunction}).
 */
public final class FeatureTraining {
    private static final Set<String> SAME_SHAPE = Set.of("FitNetsHint", "TinyBertHiddenMse", "TinyBertAttentionMse",
            "CorrelationCongruence", "CosineEmbedding", "Crd");

    private final ComputationGraph graph;
    private final List<Tap> taps;
    private final List<FeatureLossFunction> heads;
    private final List<Boolean> masked;
    private final List<AuxiliaryClassifier> auxiliary;
    private final List<DistillationLossFunction> auxiliaryHeads;
    private final Teacher teacher;
    private final MultiLayerConfiguration plainMln;
    private final ComputationGraphConfiguration plainGraph;

    private FeatureTraining(ComputationGraph graph, List<Tap> taps, List<FeatureLossFunction> heads,
                            List<Boolean> masked, List<AuxiliaryClassifier> auxiliary,
                            List<DistillationLossFunction> auxiliaryHeads, Teacher teacher,
                            MultiLayerConfiguration plainMln, ComputationGraphConfiguration plainGraph) {
        this.graph = graph;
        this.taps = List.copyOf(taps);
        this.heads = List.copyOf(heads);
        this.masked = List.copyOf(masked);
        this.auxiliary = List.copyOf(auxiliary);
        this.auxiliaryHeads = List.copyOf(auxiliaryHeads);
        this.teacher = teacher;
        this.plainMln = plainMln;
        this.plainGraph = plainGraph;
    }

    /**
     * Builds the training graph. {@code probe} (one batch of the training data) fixes the activation
     * shapes of the tapped layers; the user's student network is not modified.
     */
    public static FeatureTraining build(Student student, ILossFunction mainLoss, List<Tap> taps, Teacher teacher,
                                        DataSet probe) {
        return build(student, mainLoss, taps, List.of(), teacher, probe);
    }

    /**
     * Builds the training graph with feature taps and auxiliary classifiers (whose heads need a
     * {@link DistillationLossFunction} main loss: they read its packed targets).
     */
    public static FeatureTraining build(Student student, ILossFunction mainLoss, List<Tap> taps,
                                        List<AuxiliaryClassifier> auxiliary, Teacher teacher, DataSet probe) {
        if (taps.isEmpty() && auxiliary.isEmpty()) {
            throw new IllegalArgumentException("feature distillation needs at least one tap or auxiliary classifier");
        }
        Set<String> names = new HashSet<>();
        for (Tap t : taps) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("tap names must be unique, got '" + t.name() + "' twice");
            }
        }
        for (AuxiliaryClassifier a : auxiliary) {
            if (!names.add(a.name())) {
                throw new IllegalArgumentException("tap and auxiliary classifier names must be unique, got '" + a.name()
                        + "' twice");
            }
        }
        Model net = student.network();
        MultiLayerConfiguration plainMln = null;
        ComputationGraphConfiguration plainGraph = null;
        ComputationGraph base;
        if (net instanceof MultiLayerNetwork mln) {
            plainMln = mln.getLayerWiseConfigurations();
            base = mln.toComputationGraph();
        } else {
            ComputationGraph cg = (ComputationGraph) net;
            plainGraph = cg.getConfiguration();
            base = cg;
        }
        ComputationGraphConfiguration conf = base.getConfiguration().clone();
        String mainOut = conf.getNetworkOutputs().get(0);
        GraphVertex ov = conf.getVertices().get(mainOut);
        Layer out = OutputLayers.require(((LayerVertex) ov).getLayerConf(), "student output '" + mainOut + "'");
        OutputLayers.setLoss(out, mainLoss);
        OutputLayers.setActivation(out, new ActivationIdentity());
        ComputationGraph copy = new ComputationGraph(conf);
        copy.init(base.params().dup(), false);

        Map<String, INDArray> studentActs = copy.feedForward(new INDArray[] {probe.getFeatures()}, false);
        List<String> teacherLayers = taps.stream().map(Tap::teacherLayer).toList();
        Map<String, INDArray> teacherActs = taps.isEmpty() ? Map.of() : teacher.activations(
                new TeacherBatch(probe.getFeatures(), probe.getFeaturesMaskArray(), 0), teacherLayers);
        double[] blocks = teacher.blockWeights();
        IUpdater updater = updaterOf(conf);

        // added layers (adapters, heads) are initialised from the student configuration's seed. DL4J's
        // transfer-learning builder seeds the new graph with the base graph's seed, and a graph made by
        // MultiLayerNetwork.toComputationGraph() has the clock as its seed: two runs of the same distillation
        // would start their adapters and heads differently
        long seed = plainMln != null ? plainMln.getConf(0).getSeed() : plainGraph.getDefaultConfiguration().getSeed();
        TransferLearning.GraphBuilder tb = new TransferLearning.GraphBuilder(copy)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(seed).build());
        List<String> outputs = new ArrayList<>(List.of(mainOut));
        List<FeatureLossFunction> heads = new ArrayList<>();
        List<Boolean> masked = new ArrayList<>();
        for (Tap tap : taps) {
            INDArray s = studentActs.get(tap.studentLayer());
            if (s == null || tap.studentLayer().equals(mainOut)) {
                throw new IllegalArgumentException("tap " + tap.name() + ": the student has no intermediate vertex '"
                        + tap.studentLayer() + "'; vertices: " + studentActs.keySet());
            }
            INDArray t = member(tap, teacherActs.get(tap.teacherLayer()), blocks.length);
            String loss = tap.newLoss().name();
            boolean vid = loss.equals("Vid");
            Adapter kind = resolve(tap, s, t, loss);
            String prefix = prefix(tap.name());
            String last = tap.studentLayer();
            long[] adapted = perExample(s);
            long outC = t.size(1) * (vid ? 2 : 1);
            if (kind == Adapter.DENSE) {
                DenseLayer dense = new DenseLayer.Builder().nIn(s.size(1)).nOut(outC).activation(Activation.IDENTITY)
                        .weightInit(WeightInit.XAVIER).updater(updater.clone()).build();
                Layer l = s.rank() == 3 ? new TimeDistributed(dense, RNNFormat.NCW) : dense;
                tb.addLayer(prefix + "_adapter", l, last);
                last = prefix + "_adapter";
                adapted = s.rank() == 3 ? new long[] {outC, s.size(2)} : new long[] {outC};
            } else if (kind == Adapter.CONV_1X1) {
                long[] hw = {s.size(2), s.size(3)};
                if (s.size(2) != t.size(2) || s.size(3) != t.size(3)) {
                    tb.addLayer(prefix + "_resize", resize(tap, s, t), last);
                    last = prefix + "_resize";
                    hw = new long[] {t.size(2), t.size(3)};
                }
                tb.addLayer(prefix + "_adapter", new ConvolutionLayer.Builder(1, 1).nIn(s.size(1)).nOut(outC)
                        .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).updater(updater.clone()).build(),
                        last);
                last = prefix + "_adapter";
                adapted = new long[] {outC, hw[0], hw[1]};
            }
            boolean m = t.rank() == 3 && s.rank() == 3 && probe.getFeaturesMaskArray() != null;
            FeatureLossFunction fn = new FeatureLossFunction(tap.name(), tap.loss(), tap.weight(), adapted,
                    perExample(t), m, blocks.length == 1 ? null : blocks);
            tb.addLayer(prefix + "_head", new LossLayer.Builder(fn).activation(Activation.IDENTITY).build(),
                    new FlattenPreProcessor(adapted), last);
            outputs.add(prefix + "_head");
            heads.add(fn);
            masked.add(m);
        }
        List<DistillationLossFunction> auxHeads = new ArrayList<>();
        for (AuxiliaryClassifier aux : auxiliary) {
            auxHeads.add(addClassifier(tb, aux, studentActs, mainOut, mainLoss, updater));
            outputs.add(prefix(aux.name()) + "_head");
        }
        tb.setOutputs(outputs.toArray(new String[0]));
        ComputationGraph g = tb.build();
        // the heads' loss functions are the instances in the built configuration (CRD keeps its memory there)
        List<FeatureLossFunction> live = new ArrayList<>();
        for (int j = 0; j < heads.size(); j++) {
            live.add((FeatureLossFunction) ((LossLayer) ((LayerVertex) g.getConfiguration().getVertices()
                    .get(outputs.get(1 + j))).getLayerConf().getLayer()).getLossFn());
        }
        List<DistillationLossFunction> liveAux = new ArrayList<>();
        for (int k = 0; k < auxHeads.size(); k++) {
            liveAux.add((DistillationLossFunction) ((BaseOutputLayer) ((LayerVertex) g.getConfiguration().getVertices()
                    .get(outputs.get(1 + heads.size() + k))).getLayerConf().getLayer()).getLossFn());
        }
        return new FeatureTraining(g, taps, live, masked, auxiliary, liveAux, teacher, plainMln, plainGraph);
    }

    private static String prefix(String name) {
        return "kd_" + name.replaceAll("[^A-Za-z0-9_]", "_");
    }

    /**
     * One member's slice of a tapped teacher activation ({@code members} stacked along dimension 1),
     * which fixes the adapter and the per-member shape of the feature loss.
     */
    private static INDArray member(Tap tap, INDArray t, int members) {
        if (members == 1) {
            return t;
        }
        if (t.size(1) % members != 0) {
            throw new IllegalArgumentException("tap " + tap.name() + ": the teacher's activation " + Arrays.toString(t.shape())
                    + " does not hold " + members + " stacked members along dimension 1");
        }
        INDArrayIndex[] idx = new INDArrayIndex[t.rank()];
        Arrays.fill(idx, NDArrayIndex.all());
        idx[1] = NDArrayIndex.interval(0, t.size(1) / members);
        return t.get(idx).dup();
    }

    /** Adds an auxiliary classifier head on a dense or convolutional student vertex; returns its loss function. */
    private static DistillationLossFunction addClassifier(TransferLearning.GraphBuilder tb, AuxiliaryClassifier aux,
                                                          Map<String, INDArray> studentActs, String mainOut,
                                                          ILossFunction mainLoss, IUpdater updater) {
        if (!(mainLoss instanceof DistillationLossFunction main)) {
            throw new IllegalArgumentException("auxiliary classifiers read the main output's packed targets; the main "
                    + "loss must be a DistillationLossFunction, got " + mainLoss);
        }
        INDArray s = studentActs.get(aux.studentLayer());
        if (s == null || aux.studentLayer().equals(mainOut)) {
            throw new IllegalArgumentException("auxiliary classifier " + aux.name() + ": the student has no intermediate "
                    + "vertex '" + aux.studentLayer() + "'; vertices: " + studentActs.keySet());
        }
        if (s.rank() != 2 && s.rank() != 4) {
            throw new IllegalArgumentException("auxiliary classifier " + aux.name() + ": needs a dense [batch, features] "
                    + "or convolutional [batch, channels, h, w] activation, got " + Arrays.toString(s.shape())
                    + " (recurrent layers are not supported)");
        }
        DistillationLossFunction fn = DistillationLossFunction.of(Objective.parse(aux.objective()), main.layout(),
                main.teacherWeights());
        String prefix = prefix(aux.name());
        String last = aux.studentLayer();
        if (s.rank() == 4) {
            tb.addLayer(prefix + "_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
            last = prefix + "_pool";
        }
        tb.addLayer(prefix + "_head", new OutputLayer.Builder(fn).nIn(s.size(1)).nOut(main.layout().classes())
                .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).updater(updater.clone()).build(), last);
        return fn;
    }

    private static Adapter resolve(Tap tap, INDArray s, INDArray t, String loss) {
        Adapter a = tap.adapter();
        boolean vid = loss.equals("Vid");
        if (a == Adapter.AUTO) {
            boolean needs = vid || (SAME_SHAPE.contains(loss) && !Arrays.equals(s.shape(), t.shape()));
            a = !needs ? Adapter.NONE : s.rank() == 4 ? Adapter.CONV_1X1 : Adapter.DENSE;
        }
        if (a == Adapter.DENSE && s.rank() == 4) {
            throw new IllegalArgumentException("tap " + tap.name() + ": a DENSE adapter needs a dense or recurrent "
                    + "activation, got " + Arrays.toString(s.shape()) + "; use CONV_1X1");
        }
        if (a == Adapter.CONV_1X1 && (s.rank() != 4 || t.rank() != 4)) {
            throw new IllegalArgumentException("tap " + tap.name() + ": a CONV_1X1 adapter needs [batch, channels, h, w] "
                    + "activations, got student " + Arrays.toString(s.shape()) + " and teacher "
                    + Arrays.toString(t.shape()));
        }
        if (vid && a == Adapter.NONE) {
            throw new IllegalArgumentException("tap " + tap.name() + ": Vid needs an adapter that predicts [mean | "
                    + "variance]; use AUTO, DENSE or CONV_1X1");
        }
        return a;
    }

    private static Layer resize(Tap tap, INDArray s, INDArray t) {
        long sh = s.size(2);
        long sw = s.size(3);
        long th = t.size(2);
        long tw = t.size(3);
        if (sh >= th && sh % th == 0 && sw % tw == 0 && sh / th == sw / tw) {
            int f = (int) (sh / th);
            return new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(f, f).stride(f, f).build();
        }
        if (th >= sh && th % sh == 0 && tw % sw == 0 && th / sh == tw / sw) {
            return new Upsampling2D.Builder((int) (th / sh)).build();
        }
        throw new IllegalArgumentException("tap " + tap.name() + ": cannot resize the student map " + sh + "x" + sw
                + " to the teacher's " + th + "x" + tw + " by one integer factor");
    }

    private static long[] perExample(INDArray a) {
        return Arrays.copyOfRange(a.shape(), 1, a.rank());
    }

    private static IUpdater updaterOf(ComputationGraphConfiguration conf) {
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseLayer b
                    && b.getIUpdater() != null) {
                return b.getIUpdater();
            }
        }
        return new org.nd4j.linalg.learning.config.Adam(1e-3);
    }

    /** The DL4J training graph (main output first, then one head per tap). */
    public ComputationGraph graph() {
        return graph;
    }

    /** The taps, in head order. */
    public List<Tap> taps() {
        return taps;
    }

    /** The heads' loss functions, in tap order (their {@code lastValue()} is the term's latest value). */
    public List<FeatureLossFunction> heads() {
        return heads;
    }

    /** The auxiliary classifiers, in head order. */
    public List<AuxiliaryClassifier> auxiliary() {
        return auxiliary;
    }

    /** The auxiliary classifiers' loss functions, in order (their {@code lastTerms()} are the latest values). */
    public List<DistillationLossFunction> auxiliaryHeads() {
        return auxiliaryHeads;
    }

    /** The teacher whose activations the taps read (a {@link SelfTeacher} in self-distillation). */
    public Teacher teacher() {
        return teacher;
    }

    /** The MultiDataSet iterator that feeds this graph from a logit-target iterator. */
    public FeatureTargetIterator iterator(TeacherTargetIterator logits) {
        return new FeatureTargetIterator(logits, teacher, taps.stream().map(Tap::teacherLayer).toList(), masked,
                auxiliary.size());
    }

    /** The main output's predictions (logits) of the training graph, train = false. */
    public INDArray mainLogits(INDArray features) {
        return graph.output(false, features)[0];
    }

    /**
     * The trained student as the user defined it (original output activation and loss), with the
     * trained parameters copied by name; adapters and heads are not part of it.
     */
    public Model exportPlain() {
        Map<String, INDArray> trained = graph.paramTable();
        if (plainMln != null) {
            MultiLayerNetwork plain = new MultiLayerNetwork(plainMln.clone());
            plain.init();
            copyParams(plain.paramTable(), trained, plain::setParam);
            return plain;
        }
        ComputationGraph plain = new ComputationGraph(plainGraph.clone());
        plain.init();
        copyParams(plain.paramTable(), trained, plain::setParam);
        return plain;
    }

    private interface Setter {
        void set(String key, INDArray value);
    }

    private static void copyParams(Map<String, INDArray> target, Map<String, INDArray> trained, Setter setter) {
        for (String key : target.keySet()) {
            INDArray v = trained.get(key);
            if (v == null) {
                throw new IllegalStateException("trained graph has no parameter '" + key + "' to export");
            }
            setter.set(key, v.dup());
        }
    }
}
