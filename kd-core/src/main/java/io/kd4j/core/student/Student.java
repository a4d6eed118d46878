package io.kd4j.core.student;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The trainable DL4J model being distilled: an ordinary MultiLayerNetwork or single-output
 * ComputationGraph whose last layer is an output layer (e.g. softmax + MCXENT), or a parameterless
 * {@code LossLayer} / {@code RnnLossLayer} whose width DL4J knows from {@code setInputType} (e.g. a
 * shared candidate scorer whose 1×1 convolutions end in one score per candidate). The user's model
 * definition is not changed: distillation trains a copy whose output layer uses the distillation
 * loss with an identity activation, and {@link TrainingModel#exportPlain()} returns the trained
 * student with the original output layer, loadable with plain DL4J.
 */
public sealed interface Student permits MultiLayerStudent, GraphStudent {

    /** A student from an initialised MultiLayerNetwork (not modified). */
    static Student of(MultiLayerNetwork network) {
        return new MultiLayerStudent(network);
    }

    /** A student from an initialised single-output ComputationGraph (not modified). */
    static Student of(ComputationGraph graph) {
        return new GraphStudent(graph);
    }

    /** The number of output units (classes) of the student's output layer. */
    int numClasses();

    /** The number of parameters. */
    long numParams();

    /** Description for reports. */
    String describe();

    /** The user's original network. */
    Model network();

    /** A training copy whose output layer computes {@code loss} on logits (identity activation). */
    TrainingModel trainingModel(ILossFunction loss);
}
