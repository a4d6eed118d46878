package io.kd4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** The distilled student, once saved, loads and predicts in a JVM that has no kd4j class at all. */
class PlainLoadTest {

    @Test
    void givenSavedStudent_whenLoadedInJvmWithoutKd4j_thenPredictsTheSame(@TempDir Path dir) throws Exception {
        // Given a distilled student saved to disk
        List<DataSet> train = Fixtures.blobs(256, 1);
        MultiLayerNetwork teacher = Fixtures.trainedTeacher(train);
        DistillationResult r = Distiller.builder().teacher(Teacher.of(teacher))
                .objective("0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)").epochs(1).build()
                .distill(Student.of(Fixtures.mlp(8, 5, 0.0)), Fixtures.iterator(train, 32));
        Path model = dir.resolve("student.zip");
        r.save(model);
        INDArray x = train.get(3).getFeatures();
        Path features = dir.resolve("x.csv");
        float[] xs = x.toFloatVector();
        StringBuilder csv = new StringBuilder();
        for (float f : xs) {
            csv.append(csv.length() == 0 ? "" : ",").append(f);
        }
        Files.writeString(features, csv.toString());
        String expected = Arrays.toString(((MultiLayerNetwork) r.student()).output(x).toFloatVector());

        // When a child JVM with the class path minus kd4j's modules loads it with plain DL4J
        String cp = Arrays.stream(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                        .split(File.pathSeparator))
                .filter(e -> !e.contains("kd-core") && !e.contains("kd-losses"))
                .collect(Collectors.joining(File.pathSeparator));
        Path source = dir.resolve("PlainLoad.java");
        try (InputStream in = getClass().getResourceAsStream("/plain/PlainLoad.java")) {
            Files.copy(in, source);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", cp, source.toString(), model.toString(), features.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");

        // Then it predicts exactly what the distilled student predicts
        assertEquals(0, p.exitValue(), output);
        assertTrue(!output.contains("KD4J_ON_CLASSPATH"), "kd4j was visible to the child JVM");
        String line = output.lines().filter(l -> l.startsWith("PREDICTION ")).findFirst().orElse("none:\n" + output);
        assertEquals("PREDICTION " + expected, line);
    }
}
