package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.cache.CachedTeacher;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.metrics.Metrics;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

class DistillerTest {
    static List<DataSet> train;
    static List<DataSet> test;
    static MultiLayerNetwork teacherNet;

    @BeforeAll
    static void setUp() {
        train = Fixtures.blobs(512, 1);
        test = Fixtures.blobs(256, 2);
        teacherNet = Fixtures.trainedTeacher(train);
    }

    private static Distiller distiller(Teacher teacher, int epochs) {
        return Distiller.builder().teacher(teacher).objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)")
                .epochs(epochs).seed(3).data("blobs").build();
    }

    @Test
    void givenTeacherAndStudent_whenDistilled_thenStudentLearnsAndTeacherIsUnchanged() {
        // Given a trained teacher and a fresh student
        INDArray teacherBefore = teacherNet.params().dup();
        MultiLayerNetwork studentNet = Fixtures.mlp(8, 5, 0.0);
        INDArray studentBefore = studentNet.params().dup();
        // When distilled for 3 epochs
        DistillationResult r = distiller(Teacher.of(teacherNet), 3).distill(Student.of(studentNet),
                Fixtures.iterator(train, 32));
        // Then the teacher and the user's student network are untouched, and the result learned
        assertEquals(teacherBefore, teacherNet.params(), "teacher parameters changed");
        assertEquals(studentBefore, studentNet.params(), "the user's student network was modified");
        double acc = Metrics.accuracy(r.student(), Fixtures.iterator(test, 64));
        assertTrue(acc > 0.8, "distilled student accuracy " + acc);
        assertEquals(3, r.report().epochs().size());
        assertTrue(r.report().finalTerms().containsKey("SoftTargetKl"), r.report().finalTerms().toString());
        assertTrue(r.report().finalTerms().containsKey("CrossEntropy"));
        assertEquals("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)", r.report().objective());
    }

    @Test
    void givenCachedTeacher_whenDistilled_thenSameStudentAsOnline(@TempDir Path dir) throws Exception {
        // Given a teacher cache built from the same data
        Path cache = dir.resolve("teacher.kdc");
        TeacherCache.write(Teacher.of(teacherNet), Fixtures.iterator(train, 64), cache);
        CachedTeacher cached = TeacherCache.open(cache, Teacher.of(teacherNet));
        // When the same student is distilled online and offline with the same seed
        INDArray online = distiller(Teacher.of(teacherNet), 2).distill(Student.of(Fixtures.mlp(8, 5, 0.0)),
                Fixtures.iterator(train, 32)).student().params();
        INDArray offline = distiller(cached, 2).distill(Student.of(Fixtures.mlp(8, 5, 0.0)),
                Fixtures.iterator(train, 32)).student().params();
        // Then the students agree to float tolerance
        assertArrayEquals(online.toFloatVector(), offline.toFloatVector(), 1e-5f);
    }

    @Test
    void givenDistilledStudent_whenSaved_thenLoadsAsPlainDl4jModelWithSamePredictions(@TempDir Path dir) throws Exception {
        DistillationResult r = distiller(Teacher.of(teacherNet), 1).distill(Student.of(Fixtures.mlp(8, 5, 0.0)),
                Fixtures.iterator(train, 32));
        Path file = dir.resolve("student.zip");
        r.save(file);
        MultiLayerNetwork loaded = ModelSerializer.restoreMultiLayerNetwork(file.toFile());
        INDArray x = test.get(0).getFeatures();
        assertEquals(((MultiLayerNetwork) r.student()).output(x), loaded.output(x));
        // the output is a probability distribution (softmax restored), not logits
        assertEquals(1.0, loaded.output(x).sumNumber().doubleValue(), 1e-5);
        String json = loaded.getLayerWiseConfigurations().toJson();
        assertTrue(!json.contains("io.kd4j"), "saved configuration references kd4j classes");
    }

    @Test
    void givenBadInputs_whenDistilling_thenClearErrors() {
        Distiller d = distiller(Teacher.of(teacherNet), 1);
        Student s = Student.of(Fixtures.mlp(8, 5, 0.0));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> d.distill(s, Fixtures.iterator(List.of(), 32)));
        assertTrue(empty.getMessage().contains("training iterator is empty"), empty.getMessage());
        // labels with the wrong number of classes
        List<DataSet> wrong = List.of(new DataSet(train.get(0).getFeatures(),
                org.nd4j.linalg.factory.Nd4j.create(new float[] {1, 0, 0}, 1, 3)));
        IllegalArgumentException classes = assertThrows(IllegalArgumentException.class,
                () -> d.distill(s, Fixtures.iterator(wrong, 1)));
        assertTrue(classes.getMessage().contains("labels must be one-hot with 4 columns"), classes.getMessage());
        assertThrows(NullPointerException.class, () -> d.distill(null, Fixtures.iterator(train, 32)));
        IllegalArgumentException epochs = assertThrows(IllegalArgumentException.class,
                () -> Distiller.builder().teacher(Teacher.of(teacherNet)).objective("CrossEntropy").epochs(0).build());
        assertEquals("epochs must be >= 1, got 0", epochs.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Distiller.builder().objective("0.5*Nope"));
        assertTrue(unknown.getMessage().startsWith("unknown loss 'Nope'; valid names: ["), unknown.getMessage());
    }

    @Test
    void givenTeacherWithOtherClassCount_whenDistilling_thenErrorNamesBoth() {
        MultiLayerNetwork student3 = new MultiLayerNetwork(Fixtures.mlp(8, 5, 0.0).getLayerWiseConfigurations().clone());
        // a 4-class teacher with a student built for 4 classes but labels of 4: use a cache with 4 and a 3-class student
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .list()
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(Fixtures.FEATURES).nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork threeClass = new MultiLayerNetwork(conf);
        threeClass.init();
        List<DataSet> three = List.of(new DataSet(train.get(0).getFeatures(),
                org.nd4j.linalg.factory.Nd4j.create(new float[] {1, 0, 0}, 1, 3)));
        DataSetIterator it = Fixtures.iterator(three, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> distiller(Teacher.of(teacherNet), 1).distill(Student.of(threeClass), it));
        assertTrue(e.getMessage().contains("the teacher produces 4 classes but the student's output layer has nOut=3"),
                e.getMessage());
        assertTrue(student3 != null);
    }

    @Test
    void givenEvaluationData_whenDistilled_thenResultCarriesStudentMetricsAndAgreement() {
        DataSetIterator eval = Fixtures.iterator(test, 64);
        DistillationResult r = Distiller.builder().teacher(Teacher.of(teacherNet))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(2).seed(3)
                .evaluateOn(eval).build().distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        io.kd4j.core.metrics.StudentEvaluation e = r.evaluation().orElseThrow();
        // the reported accuracy is that of the returned student, measured independently
        assertEquals(Metrics.accuracy(r.student(), Fixtures.iterator(test, 64)), e.student().accuracy(), 1e-15);
        long evaluated = java.util.Arrays.stream(e.student().confusion().counts()).flatMapToLong(java.util.Arrays::stream).sum();
        assertEquals(256, evaluated);
        assertTrue(e.agreement().orElseThrow().top1() > 0.8, e.agreement().toString());
        // without evaluateOn: no evaluation
        assertTrue(distiller(Teacher.of(teacherNet), 1).distill(Student.of(Fixtures.mlp(8, 5, 0.0)),
                Fixtures.iterator(train, 32)).evaluation().isEmpty());
    }
}
