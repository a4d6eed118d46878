package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.Fixtures;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layers feature distillation adds to the student (adapters, auxiliary heads) are initialised from
 * the distiller's seed, so the same student, teacher, taps and seed give the same training graph in every
 * run (a MultiLayerNetwork's {@code toComputationGraph()} has the clock as its seed, which DL4J's
 * transfer-learning builder would otherwise use for the new layers).
 */
class FeatureTrainingSeedTest {

    private static INDArray addedParameters(MultiLayerNetwork studentNet, Teacher teacher, List<DataSet> data) {
        FeatureTraining t = FeatureDistiller.builder().teacher(teacher).objective("0.5*CrossEntropy + 0.5*SoftTargetKl")
                .tap(Tap.of("0", "0", 1.0, "FitNetsHint"))                 // 8 -> 32 units: a DENSE adapter
                .auxiliaryClassifier(AuxiliaryClassifier.of("0", "CrossEntropy"))
                .build().prepare(Student.of(studentNet), Fixtures.iterator(data, 32));
        INDArray adapter = t.graph().getLayer("kd_FitNetsHint_0_adapter").params();
        INDArray head = t.graph().getLayer("kd_aux_0_head").params();
        return Nd4j.concat(1, adapter.reshape(1, -1), head.reshape(1, -1)).dup();
    }

    @Test
    void givenTheSameStudentAndTaps_whenPreparedAtDifferentTimes_thenAddedLayersStartEqual() throws Exception {
        List<DataSet> data = Fixtures.blobs(64, 1);
        Teacher teacher = Teacher.of(Fixtures.trainedTeacher(data));
        INDArray first = addedParameters(Fixtures.mlp(8, 5, 0.0), teacher, data);
        Thread.sleep(25);                                                   // another clock value
        INDArray second = addedParameters(Fixtures.mlp(8, 5, 0.0), teacher, data);
        assertTrue(first.equals(second), "adapter and head parameters of two identical preparations differ");
    }
}
