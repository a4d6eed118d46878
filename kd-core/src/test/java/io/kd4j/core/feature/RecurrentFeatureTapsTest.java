package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A recurrent tap with padded sequences: DistilBERT's cosine loss through a per-step dense adapter. */
class RecurrentFeatureTapsTest {

    static List<DataSet> sequences(int n, long seed) {
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 3 + r.nextInt(3); // 3..5 valid steps of 5
            INDArray x = Nd4j.zeros(1, 3, 5);
            INDArray y = Nd4j.zeros(1, 4, 5);
            INDArray m = Nd4j.zeros(1, 5);
            for (int t = 0; t < len; t++) {
                int c = r.nextInt(4);
                x.putScalar(0, c % 3, t, 1.0 + r.nextGaussian() * 0.1);
                y.putScalar(0, c, t, 1.0);
                m.putScalar(0, t, 1.0);
            }
            out.add(new DataSet(x, y, m, m));
        }
        return out;
    }

    static MultiLayerNetwork lstm(int hidden, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Adam(1e-2)).list()
                .layer(new LSTM.Builder().nIn(3).nOut(hidden).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(4)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    @Test
    void givenLstmStudentAndMaskedSequences_whenTrainedWithCosineTap_thenFiniteTermsAndPlainExport() {
        List<DataSet> train = sequences(64, 1);
        MultiLayerNetwork teacherNet = lstm(8, 7);
        teacherNet.fit(new Batches(train, 16));
        MultiLayerNetwork user = lstm(4, 5);
        FeatureDistiller d = FeatureDistiller.builder().teacher(Teacher.of(teacherNet))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)")
                .tap(Tap.of("0", "0", 1.0, "CosineEmbedding")).seed(3).build();
        Batches it = new Batches(train, 16); // InMemoryDataSetIterator drops masks: keep them here
        FeatureTraining training = d.prepare(Student.of(user), it);
        assertTrue(training.graph().getConfiguration().getVertices().containsKey("kd_CosineEmbedding_0_adapter"));
        TeacherTargetIterator logits = new TeacherTargetIterator(it, Teacher.of(teacherNet), TargetLayout.dense(4));
        FeatureTargetIterator data = training.iterator(logits);
        data.reset();
        assertTrue(data.next().getLabels(1).size(1) == 8 * 5 + 5, "teacher [8 x 5] + mask [5] per example");
        data.reset();
        training.graph().fit(data);
        double v = training.heads().get(0).lastValue();
        assertTrue(Double.isFinite(v) && v >= 0 && v <= 2, "cosine term " + v);
        MultiLayerNetwork plain = (MultiLayerNetwork) training.exportPlain();
        INDArray x = sequences(4, 9).get(0).getFeatures();
        INDArray expected = new ActivationSoftmax().getActivation(
                training.mainLogits(x).permute(0, 2, 1).reshape(5, 4), false);
        INDArray actual = plain.output(x).permute(0, 2, 1).reshape(5, 4);
        assertTrue(expected.equalsWithEps(actual, 1e-6), "exported student predicts like the training copy");
    }

    /** Fixed batches of merged examples, masks kept. */
    static final class Batches implements org.nd4j.linalg.dataset.api.iterator.DataSetIterator {
        private final List<DataSet> batches = new ArrayList<>();
        private final int batch;
        private int cursor;

        Batches(List<DataSet> examples, int batch) {
            this.batch = batch;
            for (int i = 0; i < examples.size(); i += batch) {
                batches.add(DataSet.merge(examples.subList(i, Math.min(examples.size(), i + batch))));
            }
        }

        @Override
        public DataSet next(int num) {
            throw new UnsupportedOperationException();
        }

        @Override
        public DataSet next() {
            return batches.get(cursor++).copy();
        }

        @Override
        public boolean hasNext() {
            return cursor < batches.size();
        }

        @Override
        public int inputColumns() {
            return 3;
        }

        @Override
        public int totalOutcomes() {
            return 4;
        }

        @Override
        public boolean resetSupported() {
            return true;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            cursor = 0;
        }

        @Override
        public int batch() {
            return batch;
        }

        @Override
        public void setPreProcessor(org.nd4j.linalg.dataset.api.DataSetPreProcessor preProcessor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public org.nd4j.linalg.dataset.api.DataSetPreProcessor getPreProcessor() {
            return null;
        }

        @Override
        public List<String> getLabels() {
            return null;
        }
    }
}
