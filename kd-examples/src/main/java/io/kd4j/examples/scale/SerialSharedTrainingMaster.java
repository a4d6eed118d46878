package io.kd4j.examples.scale;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.storage.StorageLevel;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.residual.ResidualClippingPostProcessor;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.repartitioner.NoOpRepartitioner;
import org.deeplearning4j.spark.parameterserver.functions.SharedFlatMapDataSet;
import org.deeplearning4j.spark.parameterserver.functions.SharedFlatMapMultiDataSet;
import org.deeplearning4j.spark.parameterserver.functions.SharedFlatMapPaths;
import org.deeplearning4j.spark.parameterserver.functions.SharedFlatMapPathsMDS;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingResult;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.enums.ExecutionMode;

/**
 * DL4J's gradient-sharing trainer ({@link SharedTrainingMaster}, dl4j-spark-parameterserver 1.0.0-M2) with one
 * worker per executor JVM, which trains the RDD's partitions as given (no repartitioning) and <b>one partition
 * at a time per JVM</b>.
 *
 * <p>Why. In DL4J every training task of an executor JVM hands its partition to one shared
 * {@code SharedTrainingWrapper}: the first task to arrive becomes the "master" and trains every partition
 * attached while it runs; the others wait until the master has consumed theirs. When the master finds no
 * more data it resets the wrapper's list of partitions and only then lets a new master start. A task that
 * attaches its partition in that gap loses it to the reset: if it then sees the old master still running,
 * it waits for a consumer that never comes (the build hangs; see docs/scale-out.md); if it
 * becomes the next master, it finds an empty list and returns without training its batches. The stock
 * trainer also repartitions the data (its default {@code DefaultRepartitioner}, whatever
 * {@code Repartition.Never} says) to one minibatch per partition when, as here, {@code batchSizePerWorker}
 * equals the examples per data set; so a fit runs one task per minibatch and can open that gap as often.
 * Here each task holds a JVM-wide lock from attaching its partition until its training returns, so it is
 * always its own master and no partition can be lost; one worker per JVM trains one model anyway, so
 * nothing that could run in parallel is serialised.
 */
final class SerialSharedTrainingMaster extends SharedTrainingMaster {
    /** DL4J's builder defaults for what the builder does not expose here. */
    private static final double RESIDUAL_CLIP = 5.0;
    private static final int RESIDUAL_CLIP_FREQUENCY = 5;
    private static final int WORKER_GC_PERIOD_MS = 5000;

    SerialSharedTrainingMaster(VoidConfiguration transport, int workers, ThresholdAlgorithm threshold,
                               int batchPerWorker) {
        super(managed(transport), workers, RDDTrainingApproach.Direct, StorageLevel.MEMORY_ONLY_SER(), false,
                RepartitionStrategy.Balanced, Repartition.Never, threshold,
                new ResidualClippingPostProcessor(RESIDUAL_CLIP, RESIDUAL_CLIP_FREQUENCY), batchPerWorker,
                batchPerWorker, 0L, 1, 0, new NoOpRepartitioner(), Boolean.TRUE, WORKER_GC_PERIOD_MS, false);
    }

    private static VoidConfiguration managed(VoidConfiguration transport) {
        transport.setExecutionMode(ExecutionMode.MANAGED); // as SharedTrainingMaster.Builder does
        return transport;
    }

    @Override
    protected void doIteration(SparkDl4jMultiLayer network, JavaRDD<DataSet> split, int splitNum, int numSplits) {
        processResults(network, null,
                split.mapPartitions(new OnePartitionAtATime<>(new SharedFlatMapDataSet<>(getWorkerInstance(network)))));
    }

    @Override
    protected void doIteration(SparkComputationGraph graph, JavaRDD<DataSet> split, int splitNum, int numSplits) {
        processResults(null, graph,
                split.mapPartitions(new OnePartitionAtATime<>(new SharedFlatMapDataSet<>(getWorkerInstance(graph)))));
    }

    @Override
    protected void doIterationMDS(SparkComputationGraph graph, JavaRDD<MultiDataSet> split, int splitNum,
                                  int numSplits) {
        processResults(null, graph, split.mapPartitions(
                new OnePartitionAtATime<>(new SharedFlatMapMultiDataSet<>(getWorkerInstance(graph)))));
    }

    @Override
    protected void doIterationPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> paths,
                                    int splitNum, int numSplits, DataSetLoader dataSets,
                                    MultiDataSetLoader multiDataSets, int examplesPerObject) {
        if (network == null && graph == null) {
            throw new IllegalArgumentException("network and graph must not both be null");
        }
        var worker = network != null ? getWorkerInstance(network) : getWorkerInstance(graph);
        var hadoop = BroadcastHadoopConfigHolder.get(network != null ? network.getSparkContext()
                : graph.getSparkContext());
        FlatMapFunction<Iterator<String>, SharedTrainingResult> train = dataSets != null
                ? new SharedFlatMapPaths<>(worker, dataSets, hadoop)
                : new SharedFlatMapPathsMDS<>(worker, multiDataSets, hadoop);
        processResults(network, graph, paths.mapPartitions(new OnePartitionAtATime<>(train)));
    }

    /** Runs DL4J's per-partition training function under a lock held by one task per JVM at a time. */
    static final class OnePartitionAtATime<T> implements FlatMapFunction<Iterator<T>, SharedTrainingResult> {
        private static final long serialVersionUID = 1L;
        /** One per class loader, i.e. per executor JVM: SharedTrainingWrapper is one per JVM too. */
        private static final ReentrantLock TRAINING = new ReentrantLock();
        private final FlatMapFunction<Iterator<T>, SharedTrainingResult> train;

        OnePartitionAtATime(FlatMapFunction<Iterator<T>, SharedTrainingResult> train) {
            this.train = train;
        }

        @Override
        public Iterator<SharedTrainingResult> call(Iterator<T> partition) throws Exception {
            TRAINING.lockInterruptibly(); // a cancelled Spark task interrupts its thread
            try {
                List<SharedTrainingResult> results = new ArrayList<>();
                train.call(partition).forEachRemaining(results::add);
                return results.iterator();
            } finally {
                TRAINING.unlock();
            }
        }
    }
}
