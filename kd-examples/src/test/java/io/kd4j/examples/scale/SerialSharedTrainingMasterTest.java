package io.kd4j.examples.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * {@link SerialSharedTrainingMaster} with many partitions running as concurrent tasks in one executor JVM (the
 * case in which DL4J's own trainer can lose a partition or hang, see the class Javadoc): every minibatch is
 * trained exactly once per fit, by the task that owns its partition. DL4J's own trainer fails the second
 * check: there the first task to arrive trains the partitions of the tasks that run beside it.
 */
class SerialSharedTrainingMasterTest {
    static final int PORT = 40127;
    static final int PARTITIONS = 64;
    /** Minibatches trained in this JVM (local mode: the executors run here), counted by {@link CountSteps}. */
    static final AtomicInteger STEPS = new AtomicInteger();
    /** Minibatches trained by a task other than the one whose partition holds them. */
    static final AtomicInteger FOREIGN = new AtomicInteger();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void givenSixtyFourOneBatchPartitionsOnLocal2_whenFittedThreeTimes_thenEveryBatchTrainedOnceEachFit() {
        // Given 64 partitions of one minibatch each on local[2]: 64 tasks per fit, two at a time in one JVM
        withLocal2(sc -> {
            JavaRDD<DataSet> data = sc.parallelize(batches(), PARTITIONS);
            SparkDl4jMultiLayer spark = sharing(sc);
            for (int fit = 1; fit <= 3; fit++) {
                // When fitted
                STEPS.set(0);
                FOREIGN.set(0);
                spark.fit(data);
                // Then each of the 64 minibatches was one training step, none lost and none repeated,
                // and each was trained by the task of its own partition
                assertEquals(PARTITIONS, STEPS.get(), "training steps in fit " + fit);
                assertEquals(0, FOREIGN.get(), "minibatches trained by another partition's task in fit " + fit);
            }
        });
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void givenBatchesSavedAsFilesOnSixtyFourPartitions_whenFittedFromPaths_thenEveryBatchTrainedOnceByItsTask(
            @TempDir Path dir) throws IOException {
        // Given the 64 minibatches saved as files, partition p holding the path of minibatch p
        List<DataSet> batches = batches();
        List<String> paths = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            File file = dir.resolve("batch-" + p + ".bin").toFile();
            batches.get(p).save(file);
            paths.add(file.toURI().toString());
        }
        withLocal2(sc -> {
            // When fitted from the paths (DL4J's loader reads each file on the executor)
            STEPS.set(0);
            FOREIGN.set(0);
            sharing(sc).fitPaths(sc.parallelize(paths, PARTITIONS));
            // Then every minibatch was trained once, by the task of its own partition
            assertEquals(PARTITIONS, STEPS.get(), "training steps");
            assertEquals(0, FOREIGN.get(), "minibatches trained by another partition's task");
        });
    }

    /** One minibatch of 8 examples per partition; every feature of minibatch p is p. */
    private static List<DataSet> batches() {
        List<DataSet> batches = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            INDArray labels = Nd4j.zeros(8, Blobs.CLASSES);
            labels.putScalar(0, p % Blobs.CLASSES, 1.0);
            for (int i = 1; i < 8; i++) {
                labels.putScalar(i, i % Blobs.CLASSES, 1.0);
            }
            batches.add(new DataSet(Nd4j.valueArrayOf(new long[] {8, Blobs.FEATURES}, (double) p), labels));
        }
        return batches;
    }

    /** A fresh student on kd4j's gradient-sharing trainer, whose steps {@link CountSteps} counts. */
    private static SparkDl4jMultiLayer sharing(JavaSparkContext sc) {
        TrainingMaster<?, ?> tm = SparkTrainingMasters.sharing(2, 8, 1e-2, 3, "127.0.0.1", "127.0.0.0/8", PORT);
        tm.setListeners(List.of(new CountSteps()));
        return new SparkDl4jMultiLayer(sc, Blobs.mlp(8, 5, new Adam(1e-2)), tm);
    }

    private static void withLocal2(Consumer<JavaSparkContext> body) {
        JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("kd4j-serial")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
        try {
            body.accept(sc);
        } finally {
            sc.stop();
        }
    }

    /**
     * Counts training steps, and those whose minibatch (features all equal to its partition) is not the
     * partition of the Spark task training it. Java-serialisable, as Spark ships it to the executors.
     */
    static final class CountSteps extends BaseTrainingListener implements Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public void onForwardPass(Model model, List<INDArray> activations) {
            STEPS.incrementAndGet();
            if (activations.get(0).getInt(0, 0) != TaskContext.getPartitionId()) {
                FOREIGN.incrementAndGet();
            }
        }
    }
}
