package io.kd4j.examples.tasks;

import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.student.TrainingModel;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.catalogue.Objective;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import io.kd4j.losses.dl4j.TargetLayout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Training with a catalogue objective on a student's output layer, through DL4J's own fit, epoch by epoch. */
public final class TaskTraining {
    private TaskTraining() {
    }

    /**
     * Distils {@code net} from {@code teacher} with {@code objective} through DL4J's own fit: the
     * iterator packs {@code [labels | teacher block | epoch]} and the training copy's output layer is the
     * objective's {@link DistillationLossFunction}; epoch by epoch like plain DL4J training ({@code reset}
     * and {@code fit} per epoch), so the batches are those of a student alone on an iterator with the same
     * seed.
     */
    public static MultiLayerNetwork distil(MultiLayerNetwork net, Teacher teacher, String objective,
                                           InMemoryDataSetIterator train, int epochs) {
        Student student = Student.of(net);
        TargetLayout layout = TeacherTargetIterator.layoutFor(teacher, student.numClasses());
        TrainingModel model = student.trainingModel(
                DistillationLossFunction.of(Objective.parse(objective), layout, teacher.blockWeights()));
        TeacherTargetIterator data = new TeacherTargetIterator(train, teacher, layout);
        for (int e = 1; e <= epochs; e++) {
            data.reset();
            data.setEpoch(e);
            model.fit(data);
        }
        return (MultiLayerNetwork) model.exportPlain();
    }

    /**
     * Trains a {@code [mean | log-variance]} network of a one-dimensional target with
     * {@code GaussianNll(full=true)} towards the target itself: the packed labels are {@code [0 0 | y 0 | 1]}
     * (teacher block: mean y, variance 0), i.e. PyTorch's {@code GaussianNLLLoss(full=True)} on the target.
     */
    public static MultiLayerNetwork fitGaussianOnTarget(MultiLayerNetwork net, INDArray x, double[] target, int batch,
                                                        long orderSeed, int epochs) {
        int n = target.length;
        INDArray packed = Nd4j.hstack(Nd4j.zeros(DataType.FLOAT, n, 2), TaskTargets.column(target),
                Nd4j.zeros(DataType.FLOAT, n, 1), Nd4j.ones(DataType.FLOAT, n, 1));
        TrainingModel model = Student.of(net).trainingModel(
                DistillationLossFunction.of(Objective.parse("GaussianNll(full=true)"), TargetLayout.dense(2)));
        InMemoryDataSetIterator it = new InMemoryDataSetIterator(x, packed, batch, orderSeed);
        for (int e = 0; e < epochs; e++) {
            it.reset();
            model.fit(it);
        }
        return (MultiLayerNetwork) model.exportPlain();
    }
}
