package io.kd4j.core.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.data.TeacherTargetIterator;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.losses.dl4j.TargetLayout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

class FeatureTargetsTest {

    @Test
    void givenTargetsSentThroughJavaSerialisation_whenAttachedWithAnotherTeacherCopy_thenSameBatchesAsTheIterator()
            throws Exception {
        List<DataSet> train = Fixtures.blobs(96, 1);
        MultiLayerNetwork teacherNet = Fixtures.trainedTeacher(train);
        FeatureTraining training = FeatureDistiller.builder().teacher(Teacher.of(teacherNet)).objective("SoftTargetKl")
                .tap(Tap.of("0", "0", 1.0, "FitNetsHint")).tap(Tap.of("0", "1", 2.0, "RkdDistance").named("rkd"))
                .build().prepare(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(training.targets());
        }
        FeatureTargets shipped;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            shipped = (FeatureTargets) in.readObject();
        }
        assertEquals(new FeatureTargets(List.of("0", "1"), List.of(false, false)), shipped);

        // the driver's iterator (its own teacher) and a worker's attach (a second copy of the teacher)
        InMemoryDataSetIterator data = Fixtures.iterator(train, 32);
        FeatureTargetIterator driver = training.iterator(new TeacherTargetIterator(data, Teacher.of(teacherNet),
                TargetLayout.dense(Fixtures.CLASSES)));
        TeacherTargetIterator packing = new TeacherTargetIterator(Fixtures.iterator(train, 32), Teacher.of(teacherNet),
                TargetLayout.dense(Fixtures.CLASSES));
        int batches = 0;
        while (driver.hasNext()) {
            MultiDataSet expected = driver.next();
            MultiDataSet worker = shipped.attach(packing.next(), Teacher.of(teacherNet));
            assertEquals(expected.getFeatures(0), worker.getFeatures(0));
            assertEquals(3, worker.numLabelsArrays());
            for (int j = 0; j < 3; j++) {
                assertEquals(expected.getLabels(j), worker.getLabels(j), "label " + j);
            }
            batches++;
        }
        assertEquals(3, batches);
    }

    @Test
    void givenBadTargets_whenBuilt_thenErrorsNameTheRule() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new FeatureTargets(List.of(), List.of()));
        assertEquals("teacherLayers must name at least one tapped layer", empty.getMessage());
        IllegalArgumentException flags = assertThrows(IllegalArgumentException.class,
                () -> new FeatureTargets(List.of("0", "1"), List.of(false)));
        assertEquals("masked must have one flag per teacher layer (2), got 1", flags.getMessage());
    }
}
