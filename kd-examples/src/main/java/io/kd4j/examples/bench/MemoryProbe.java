package io.kd4j.examples.bench;

import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.cache.TopKCacheOptions;
import io.kd4j.core.cache.TopKTeacherCache;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.Distiller;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Memory of distillation, one configuration per JVM, printed as {@code RESULT key=value} lines:
 * <ul>
 *   <li>{@code distill dense|topk EXAMPLES}: one epoch of a student (one output layer 64 -&gt; 32000) from a
 *       dense teacher cache or a top-k cache (k = 32, float32), 32000 classes, batch 64; peak heap
 *       (the heap pools' peak use), peak memory outside the heap (resident set minus committed heap,
 *       sampled each iteration: ND4J's buffers, native libraries, touched cache pages), peak resident set (VmHWM, which counts the mapped cache pages the run touched),
 *       and bytes per example on disk;</li>
 *   <li>{@code scale EXAMPLES}: write a top-k cache (k = 32 of 512 classes) of that many examples and
 *       read it all back; peak heap and the heap left in use after a full GC.</li>
 * </ul>
 */
public final class MemoryProbe {
    private static final int FEATURES = 64;

    private MemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        long examples = Long.parseLong(args[args.length - 1]);
        Path dir = Files.createTempDirectory("kd4j-mem");
        try {
            if (mode.equals("distill")) {
                distill(args[1], (int) examples, dir);
            } else {
                scale(examples, dir);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void distill(String kind, int examples, Path dir) throws Exception {
        int classes = 32000;
        int batch = 64;
        Teacher teacher = SyntheticData.linearTeacher(FEATURES, classes);
        Path file = dir.resolve(kind + ".cache");
        long[] offHeap = {0};
        BaseTrainingListener sampler = new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
                offHeap[0] = Math.max(offHeap[0], Pointer.physicalBytes() - heap);
            }
        };
        resetPeaks();
        Distiller.Builder b = Distiller.builder().epochs(1).listener(sampler);
        CachedTopKTeacher top = null;
        if (kind.equals("dense")) {
            TeacherCache.write(teacher, new SyntheticData(examples, 256, FEATURES, classes), file);
            b.teacher(TeacherCache.open(file, teacher)).objective("0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=1.0)");
        } else {
            TopKTeacherCache.write(teacher, new SyntheticData(examples, 256, FEATURES, classes), file,
                    TopKCacheOptions.of(32));
            top = TopKTeacherCache.open(file, teacher, 32, null);
            b.topKCache(top).objective("0.1*CrossEntropy + 0.9*SparseTopKKl(temperature=1.0)");
        }
        double bytesPerExample = (Files.size(file) - 4096.0) / examples;
        resetPeaks();
        long t0 = System.nanoTime();
        b.build().distill(Student.of(student(classes)), new SyntheticData(examples, batch, FEATURES, classes));
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (top != null) {
            top.close();
        }
        System.out.printf("RESULT %s_bytes_per_example=%.1f%n", kind, bytesPerExample);
        System.out.printf("RESULT %s_peak_heap_mb=%.1f%n", kind, peakHeap() / 1e6);
        System.out.printf("RESULT %s_peak_offheap_mb=%.1f%n", kind, offHeap[0] / 1e6);
        System.out.printf("RESULT %s_peak_rss_mb=%.1f%n", kind, vmHwm() / 1e6);
        System.out.printf("RESULT %s_epoch_seconds=%.2f%n", kind, seconds);
    }

    private static MultiLayerNetwork student(int classes) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .updater(new Adam(1e-3)).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(FEATURES).nOut(classes)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    private static void scale(long examples, Path dir) throws Exception {
        int classes = 512;
        Teacher teacher = SyntheticData.linearTeacher(FEATURES, classes);
        Path file = dir.resolve("scale.topk");
        resetPeaks();
        TopKTeacherCache.write(teacher, new SyntheticData(examples, 1000, FEATURES, classes), file,
                TopKCacheOptions.of(32));
        double writePeak = peakHeap();
        resetPeaks();
        double checksum = 0;
        try (CachedTopKTeacher c = TopKTeacherCache.open(file, teacher, 32, null)) {
            SyntheticData it = new SyntheticData(examples, 1000, FEATURES, classes);
            long pos = 0;
            while (it.hasNext()) {
                DataSet ds = it.next();
                checksum += c.topK(new TeacherBatch(ds.getFeatures(), null, pos)).logProbs().getDouble(0, 0);
                pos += ds.numExamples();
            }
            System.gc();
            System.out.printf("RESULT scale_%d_retained_heap_mb=%.1f%n", examples,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1e6);
        }
        System.out.printf("RESULT scale_%d_write_peak_heap_mb=%.1f%n", examples, writePeak / 1e6);
        System.out.printf("RESULT scale_%d_read_peak_heap_mb=%.1f%n", examples, peakHeap() / 1e6);
        System.out.printf("RESULT scale_%d_file_mb=%.1f%n", examples, Files.size(file) / 1e6);
        System.out.printf("RESULT scale_%d_checksum=%.3f%n", examples, checksum);
    }

    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
    }

    private static double peakHeap() {
        double sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static long vmHwm() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
