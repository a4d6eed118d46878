package io.kd4j.core.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import io.kd4j.losses.logit.CrossEntropy;
import io.kd4j.losses.logit.ReverseKl;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** A {@link MultiTeacher} that averages per-teacher losses, end to end: distillation, cache, JSON, sequences, errors. */
class PerTeacherLossTest {
    static List<DataSet> train;
    static MultiTeacher ensemble;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(512, 1);
        ensemble = MultiTeacher.builder().add(Teacher.of(Fixtures.trainedTeacher(train)), 2)
                .add(Teacher.of(Fixtures.trainedTeacher(Fixtures.blobs(512, 5))), 1)
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build();
    }

    private static Distiller dkd(Teacher teacher, int epochs) {
        return Distiller.builder().teacher(teacher).objective("0.5*CrossEntropy + 0.5*Dkd(warmupEpochs=1.0)")
                .epochs(epochs).seed(3).build();
    }

    @Test
    void givenTwoTeacherEnsembleAndDkd_whenDistilledAveragingPerTeacherLosses_thenStudentLearns() {
        DistillationResult r = Distiller.builder().teacher(ensemble)
                .objective("0.5*CrossEntropy + 0.5*Dkd(warmupEpochs=1.0)").epochs(2).seed(3)
                .evaluateOn(Fixtures.iterator(Fixtures.blobs(256, 2), 64)).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(Fixtures.blobs(256, 2), 64));
        assertTrue(acc > 0.8, "student of the 2-teacher DKD ensemble, accuracy " + acc);
        assertTrue(r.report().teacher().startsWith("MultiTeacher(average_losses"), r.report().teacher());
        assertTrue(Double.isFinite(r.report().finalTerms().get("Dkd")), r.report().finalTerms().toString());
        // the agreement is measured against the ensemble's mixture of the members' softmaxes
        assertTrue(r.evaluation().orElseThrow().agreement().orElseThrow().top1() > 0.8, r.evaluation().toString());
    }

    @Test
    void givenStackedTeacher_whenCachedAndDistilledOffline_thenSameStudentAsOnline(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ensemble.kdc");
        String summary = TeacherCache.write(ensemble, Fixtures.iterator(train, 64), file);
        assertTrue(summary.contains("512 examples x 8 classes (2 stacked teachers)"), summary);
        CachedTeacher cached = TeacherCache.open(file, ensemble);
        assertArrayEquals(ensemble.blockWeights(), cached.blockWeights(), 0.0);
        assertEquals(Fixtures.CLASSES, cached.classes());
        TeacherBatch b = new TeacherBatch(Fixtures.iterator(train, 64).next().getFeatures(), null, 0);
        assertArrayEquals(ensemble.logits(b).toFloatMatrix(), cached.logits(b).toFloatMatrix());
        INDArray online = dkd(ensemble, 2).distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32))
                .student().params();
        INDArray offline = dkd(cached, 2).distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32))
                .student().params();
        assertArrayEquals(online.toFloatVector(), offline.toFloatVector(), 1e-5f);
    }

    @Test
    void givenStackedLossOnOutputLayer_whenConfigurationJsonRoundTripped_thenWeightsSurvive() {
        DistillationLossFunction fn = DistillationLossFunction.of(Objective.parse("0.5*CrossEntropy + 0.5*Dist"),
                TargetLayout.stacked(Fixtures.CLASSES, 2), ensemble.blockWeights());
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder(fn).nIn(Fixtures.FEATURES).nOut(Fixtures.CLASSES)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        DistillationLossFunction loaded = (DistillationLossFunction) ((OutputLayer) back.getConf(0).getLayer()).getLossFn();
        assertArrayEquals(new double[] {2.0 / 3, 1.0 / 3}, loaded.teacherWeights(), 1e-15);
        assertEquals(TargetLayout.stacked(Fixtures.CLASSES, 2), loaded.layout());
    }

    @Test
    void givenSequenceTeachers_whenPackedAndScoredByAnRnnOutputLayer_thenScoreIsThePerTeacherAverage() {
        // a linear RnnOutputLayer student (identity activation, double precision) over [2, 3, 4] inputs, 3 classes
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, 4);
        INDArray t0 = Nd4j.rand(DataType.DOUBLE, 2, 3, 4).muli(4);
        INDArray t1 = Nd4j.rand(DataType.DOUBLE, 2, 3, 4).muli(-3);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 2, 3, 4);
        INDArray classes = Nd4j.create(new double[][] {{0, 2, 1, 1}, {2, 0, 0, 1}});
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 4; t++) {
                y.putScalar(b, (int) classes.getDouble(b, t), t, 1.0);
            }
        }
        INDArray mask = Nd4j.create(new double[][] {{1, 1, 1, 0}, {1, 1, 0, 0}}).castTo(DataType.DOUBLE);
        MultiTeacher seq = MultiTeacher.builder().add(new FixedTeacher(t0, "t0"), 1).add(new FixedTeacher(t1, "t1"), 3)
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build();
        String formula = "0.4*CrossEntropy + 0.6*ReverseKl(temperature=2.0)";
        DistillationLossFunction fn = DistillationLossFunction.of(Objective.parse(formula),
                TeacherTargetIterator.layoutFor(seq, 3), seq.blockWeights());
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .seed(1).list().layer(new RnnOutputLayer.Builder(fn).nIn(3).nOut(3).activation(Activation.IDENTITY)
                        .build()).build());
        net.init();
        TeacherTargetIterator it = new TeacherTargetIterator(
                new org.nd4j.linalg.dataset.ViewIterator(new DataSet(x, y, mask, mask), 2),
                seq, TeacherTargetIterator.layoutFor(seq, 3));
        DataSet packed = it.next();
        assertArrayEquals(new long[] {2, 3 + 6 + 1, 4}, packed.getLabels().shape());
        double score = net.score(packed);
        // independently: the standalone losses on [batch, classes, time] with the [batch, time] mask
        INDArray s = net.output(x, false, mask, mask);
        LossInput.Builder base = LossInput.of(s).labels(classes).mask(mask);
        double ce = CrossEntropy.create().compute(base.build()).value();
        ReverseKl rkl = ReverseKl.withTemperature(2.0);
        double r0 = rkl.compute(LossInput.of(s).teacherLogits(t0).mask(mask).build()).value();
        double r1 = rkl.compute(LossInput.of(s).teacherLogits(t1).mask(mask).build()).value();
        double tokenMean = 0.4 * ce + 0.6 * (0.25 * r0 + 0.75 * r1);
        // DL4J's RNN convention: the sum over the 5 valid steps divided by the 2 sequences
        assertEquals(tokenMean * 5 / 2, score, 1e-10);
    }

    @Test
    void givenStackedTeacher_whenMisused_thenClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Distiller.builder()
                .teacher(ensemble).objective("Dkd").sampleWeights(SampleWeights.teacherConfidence(
                        SampleWeights.Confidence.MAX_PROBABILITY, 1.0)).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)));
        assertTrue(e.getMessage().startsWith("sample weights read one dense teacher block; got 2 stacked teachers"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TeacherTargetIterator(Fixtures.iterator(train, 32),
                ensemble, TargetLayout.dense(Fixtures.CLASSES)));
        assertEquals("the teacher stacks 2 teacher block(s) but the layout expects 1; build it with "
                + "layoutFor(teacher, classes)", e.getMessage());
        FixedTeacher three = new FixedTeacher(Nd4j.create(new double[][] {{1, 2, 3}}), "three classes");
        MultiTeacher threeClasses = MultiTeacher.builder().add(three).add(three)
                .aggregation(MultiTeacher.Aggregation.AVERAGE_LOSSES).build();
        e = assertThrows(IllegalArgumentException.class, () -> dkd(threeClasses, 1)
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32)));
        assertTrue(e.getMessage().contains("the teacher produces 6 classes (2 stacked teachers) but the student's "
                + "output layer has nOut=4"), e.getMessage());
    }
}
