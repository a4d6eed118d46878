package io.kd4j.core.student;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** The training copy of a student: trained through DL4J's own {@code fit}. */
public interface TrainingModel {

    /** One pass over the iterator through DL4J's {@code fit(DataSetIterator)}. */
    void fit(DataSetIterator iterator);

    /** The DL4J network being trained (for listeners, ParallelWrapper, early stopping). */
    Model network();

    /** Adds DL4J training listeners. */
    void addListeners(TrainingListener... listeners);

    /** The current parameters (a live view). */
    INDArray params();

    /** The trained student with its original output layer (activation and loss), a plain DL4J model. */
    Model exportPlain();
}
