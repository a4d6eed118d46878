package io.kd4j.examples.scale;

import java.nio.file.Path;
import java.util.Objects;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.FixedThresholdAlgorithm;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.enums.MeshBuildMode;

/**
 * The two DL4J Spark trainers that {@link SparkDistiller} drives, configured as kd4j's tests and example
 * use them. Both receive packed batches and know nothing about distillation.
 *
 * <ul>
 *   <li>{@link #averaging}: {@code ParameterAveragingTrainingMaster} (dl4j-spark). Each worker fits
 *       {@code averagingFrequency} minibatches, then the driver averages parameters and updater state.</li>
 *   <li>{@link #sharing}: {@code SharedTrainingMaster} (dl4j-spark-parameterserver), gradient sharing
 *       (Strom 2015): after every minibatch each worker sends its update, threshold-encoded, to the other
 *       workers over Aeron (UDP); update elements below the threshold stay in a residual and are sent once
 *       they add up to it.</li>
 * </ul>
 */
public final class SparkTrainingMasters {
    /** Aeron's system property for the publication unblock timeout, in nanoseconds. */
    public static final String AERON_UNBLOCK_TIMEOUT = "aeron.publication.unblock.timeout";
    /** The value kd4j sets: 60 s, above the 30 s client liveness timeout that DL4J's transport sets. */
    public static final String AERON_UNBLOCK_TIMEOUT_NS = "60000000000";

    private SparkTrainingMasters() {
    }

    /**
     * Parameter averaging.
     *
     * @param workers number of workers (executor cores), &gt;= 1
     * @param batchPerWorker examples per minibatch on each worker, &gt;= 1
     * @param averagingFrequency minibatches between averaging rounds, &gt;= 1
     * @param seed the trainer's RNG seed
     * @param exportDirectory where the trainer exports the RDD's batches before each fit
     */
    public static TrainingMaster<?, ?> averaging(int workers, int batchPerWorker, int averagingFrequency, long seed,
                                                 Path exportDirectory) {
        check(workers, batchPerWorker);
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("averagingFrequency must be >= 1, got " + averagingFrequency);
        }
        Objects.requireNonNull(exportDirectory, "exportDirectory must not be null");
        return new ParameterAveragingTrainingMaster.Builder(workers, batchPerWorker).batchSizePerWorker(batchPerWorker)
                .averagingFrequency(averagingFrequency).workerPrefetchNumBatches(0).rngSeed(seed)
                .exportDirectory(exportDirectory.toAbsolutePath().toUri().toString()).build();
    }

    /**
     * Gradient sharing with one worker per executor JVM. The RDD's partitions are the workers' shares
     * (no repartitioning: partition the batches into {@code workers} parts), fed to the workers directly
     * ({@code RDDTrainingApproach.Direct}; DL4J's export approach needs a distributed file system outside
     * local mode). Each executor JVM trains its partitions one at a time ({@code SerialSharedTrainingMaster}):
     * DL4J's own trainer can lose a partition, or wait forever for it, when tasks of one JVM overlap.
     *
     * <p>One worker per JVM because two or more deadlock intermittently in DL4J 1.0.0-M2.1: within an
     * executor, {@code SharedTrainingMaster} runs a {@code ParallelWrapper} whose trainers clear the root
     * model at the end of every {@code fit} ({@code DefaultTrainer.run}, {@code Model.clear()}: its solver
     * and updater are dropped). In the next fit a non-root trainer, copying the root's updater, has to
     * build it under the root model's monitor, while the root trainer holds that monitor inside
     * {@code fit} and waits at the shared-gradient barrier for the copying trainer (docs/scale-out.md).
     * In {@code local[n]} mode all executors share one JVM, so there is one worker: the updates are
     * threshold-encoded but have no peer; with several executor JVMs ({@code local-cluster}, a real
     * cluster) every executor's worker receives the others' updates.
     *
     * <p>Every JVM that starts Aeron needs {@code -Daeron.publication.unblock.timeout=60000000000}
     * ({@link #AERON_UNBLOCK_TIMEOUT}): DL4J's transport sets Aeron's client liveness timeout to 30 s,
     * above Aeron's default 15 s unblock timeout, which Aeron's media driver refuses. This method sets it
     * in the calling JVM (the driver, and local-mode executors) unless it is set; give it to other
     * executors in {@code spark.executor.extraJavaOptions}.
     *
     * @param workers the number of workers (executors) in the cluster, &gt;= 1
     * @param batchPerWorker examples per minibatch on each worker, &gt;= 1
     * @param threshold the fixed encoding threshold: update elements with |u| &gt;= threshold are sent as
     *     ±threshold; &gt; 0 and finite. It caps how far one message moves a parameter, so choose it near
     *     the size of one step (about the learning rate for Adam)
     * @param seed accepted for symmetry with {@link #averaging}; DL4J's gradient-sharing trainer
     *     (dl4j-spark-parameterserver 1.0.0-M2) draws no random numbers, so it has no effect
     * @param controller the driver's address as the executors reach it, e.g. {@code 127.0.0.1} on one machine
     * @param networkMask the subnet (CIDR) in which each executor picks its own address for the transport,
     *     e.g. {@code 127.0.0.0/8} on one machine, {@code 10.0.0.0/16} on a cluster
     * @param port the UDP port of the controller, in 1024..65535; an executor on the same host as another
     *     takes a free port of its own ({@link PerJvmPortSupplier})
     */
    public static TrainingMaster<?, ?> sharing(int workers, int batchPerWorker, double threshold, long seed,
                                               String controller, String networkMask, int port) {
        check(workers, batchPerWorker);
        if (!(threshold > 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("threshold must be > 0 and finite, got " + threshold);
        }
        Objects.requireNonNull(controller, "controller must not be null");
        Objects.requireNonNull(networkMask, "networkMask must not be null");
        if (!networkMask.matches("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}")) {
            throw new IllegalArgumentException("networkMask must be a CIDR subnet such as 10.0.0.0/16, got '"
                    + networkMask + "'");
        }
        PerJvmPortSupplier ports = new PerJvmPortSupplier(port);
        allowAeronLivenessTimeout();
        VoidConfiguration transport = VoidConfiguration.builder()
                .controllerAddress(controller)
                .unicastPort(port)
                .portSupplier(ports)
                .networkMask(networkMask)
                .meshBuildMode(MeshBuildMode.PLAIN)
                .build();
        return new SerialSharedTrainingMaster(transport, workers, new FixedThresholdAlgorithm(threshold),
                batchPerWorker);
    }

    /** Sets {@link #AERON_UNBLOCK_TIMEOUT} in this JVM unless the user set it (see {@link #sharing}). */
    static void allowAeronLivenessTimeout() {
        if (System.getProperty(AERON_UNBLOCK_TIMEOUT) == null) {
            System.setProperty(AERON_UNBLOCK_TIMEOUT, AERON_UNBLOCK_TIMEOUT_NS);
        }
    }

    private static void check(int workers, int batchPerWorker) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }
        if (batchPerWorker < 1) {
            throw new IllegalArgumentException("batchPerWorker must be >= 1, got " + batchPerWorker);
        }
    }
}
