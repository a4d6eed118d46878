package io.kd4j.core.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * As a new user would: pick a loss by catalogue name from a parameter map, put it on a DL4J output
 * layer, train with DL4J's own fit, save, load, predict; the configuration survives DL4J's JSON round
 * trip with its parameters.
 */
class LossOnOutputLayerTest {

    static Stream<Arguments> losses() {
        return Stream.of(
                Arguments.of("SoftTargetKl", Map.of("temperature", "3.0")),
                Arguments.of("Dkd", Map.of("nonTargetWeight", "4.0", "warmupEpochs", "2")),
                Arguments.of("GeneralizedJsd", Map.of("teacherMixWeight", "0.3")),
                Arguments.of("Dist", Map.of("temperature", "2.0")),
                Arguments.of("Ltkd", Map.of("classCounts", "300;120;60;12")));
    }

    @ParameterizedTest
    @MethodSource("losses")
    void givenCatalogueLossOnOutputLayer_whenTrainedSavedLoaded_thenPredictsSameAndKeepsParams(
            String name, Map<String, String> params, @TempDir Path dir) throws Exception {
        // Given a loss picked by name and its parameter map, as the output layer's ILossFunction
        DistillationLoss loss = LossCatalogue.create(name, params);
        Objective objective = Objective.builder().add(0.5, LossCatalogue.create("CrossEntropy")).add(0.5, loss).build();
        TargetLayout layout = TargetLayout.dense(Fixtures.CLASSES);
        DistillationLossFunction fn = DistillationLossFunction.of(objective, layout);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-2)).list()
                .layer(new DenseLayer.Builder().nIn(Fixtures.FEATURES).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(fn).nIn(8).nOut(Fixtures.CLASSES).activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        List<DataSet> data = Fixtures.blobs(256, 4);
        MultiLayerNetwork teacher = Fixtures.trainedTeacher(data);
        TeacherTargetIterator it = new TeacherTargetIterator(Fixtures.iterator(data, 32), Teacher.of(teacher), layout);
        double before = net.score(it.next());
        it.reset();

        // When trained with DL4J's own fit, saved and loaded
        for (int e = 0; e < 3; e++) {
            it.reset();
            net.fit(it);
        }
        it.reset();
        double after = net.score(it.next());
        Path file = dir.resolve("net.zip");
        ModelSerializer.writeModel(net, file.toFile(), true);
        MultiLayerNetwork loaded = ModelSerializer.restoreMultiLayerNetwork(file.toFile());

        // Then the loss fell, the loaded net predicts the same, and the loss kept its parameters
        assertTrue(after < before, name + ": score did not fall: " + before + " -> " + after);
        INDArray x = data.get(0).getFeatures();
        assertEquals(net.output(x), loaded.output(x));
        OutputLayer out = (OutputLayer) loaded.getLayerWiseConfigurations().getConf(1).getLayer();
        DistillationLossFunction restored = (DistillationLossFunction) out.getLossFn();
        assertEquals(fn, restored);
        assertEquals(objective.describe(), restored.objective().describe());
        MultiLayerConfiguration fromJson = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(fn, ((OutputLayer) fromJson.getConf(1).getLayer()).getLossFn());
    }
}
