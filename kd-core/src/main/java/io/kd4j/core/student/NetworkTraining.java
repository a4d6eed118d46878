package io.kd4j.core.student;

import java.util.function.Function;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.NeuralNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * The training copy of a MultiLayerNetwork or ComputationGraph student: DL4J's own {@code fit}, and
 * an exporter that rebuilds the user's original network around the trained parameters.
 */
final class NetworkTraining<N extends Model & NeuralNetwork> implements TrainingModel {
    private final N net;
    private final Function<INDArray, Model> exportWithParams;

    NetworkTraining(N net, Function<INDArray, Model> exportWithParams) {
        this.net = net;
        this.exportWithParams = exportWithParams;
    }

    @Override
    public void fit(DataSetIterator iterator) {
        net.fit(iterator);
    }

    @Override
    public Model network() {
        return net;
    }

    @Override
    public void addListeners(TrainingListener... listeners) {
        net.addListeners(listeners);
    }

    @Override
    public INDArray params() {
        return net.params();
    }

    @Override
    public Model exportPlain() {
        return exportWithParams.apply(net.params().dup());
    }
}
