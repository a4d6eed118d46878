package io.kd4j.examples;

import io.kd4j.core.cache.TeacherCache;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.examples.data.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Flags, data and plumbing shared by {@link StrategyComparison} and {@link TaskDistillation}. */
final class ExampleData {
    private ExampleData() {
    }

    /**
     * The common flags: {@code --data}, {@code --seeds}, {@code --teacher-epochs}, {@code --student-epochs},
     * {@code --batch}, {@code --train-limit}, {@code --report}.
     */
    record Options(String data, List<Long> seeds, int teacherEpochs, int studentEpochs, int batch, int trainLimit,
                   String report) {
        static Options parse(Args args, int teacherEpochs, int studentEpochs) {
            Options o = new Options(args.text("data", "embedded"), parseSeeds(args.text("seeds", "1,2,3")),
                    args.integer("teacher-epochs", teacherEpochs), args.integer("student-epochs", studentEpochs),
                    args.integer("batch", 64), args.integer("train-limit", 0), args.text("report", null));
            positive("--teacher-epochs", o.teacherEpochs);
            positive("--student-epochs", o.studentEpochs);
            positive("--batch", o.batch);
            if (o.trainLimit < 0) {
                throw new IllegalArgumentException("--train-limit must be >= 0 (0: all), got " + o.trainLimit);
            }
            return o;
        }

        private static void positive(String flag, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(flag + " must be >= 1, got " + value);
            }
        }
    }

    /** Training and test images {@code [n, 784]} in [0, 1], one-hot labels and class indices. */
    record Split(INDArray trainX, INDArray trainY, int[] trainClasses, INDArray testX, INDArray testY,
                 int[] testClasses, String source) {
        DataSetIterator test(int batch) {
            return new InMemoryDataSetIterator(testX, testY, batch, null);
        }
    }

    /** Loads the data of {@code --data}, keeping the first {@code --train-limit} training images when set. */
    static Split load(Options opt, PrintStream out) throws IOException {
        FashionMnist.Data d = FashionMnist.load(opt.data());
        INDArray x = d.train().features();
        INDArray y = d.train().labels();
        int[] classes = d.train().classes();
        String source = d.source();
        if (opt.trainLimit() > 0 && opt.trainLimit() < d.train().size()) {
            x = x.get(NDArrayIndex.interval(0, opt.trainLimit()), NDArrayIndex.all()).dup();
            y = y.get(NDArrayIndex.interval(0, opt.trainLimit()), NDArrayIndex.all()).dup();
            classes = Arrays.copyOf(classes, opt.trainLimit());
            source += ", first " + opt.trainLimit() + " training examples";
        }
        out.println("data: " + source);
        return new Split(x, y, classes, d.test().features(), d.test().labels(), d.test().classes(), source);
    }

    /** Plain DL4J training ({@code reset} + {@code fit} per epoch). */
    static void fitPlain(MultiLayerNetwork net, DataSetIterator train, int epochs) {
        for (int e = 0; e < epochs; e++) {
            train.reset();
            net.fit(train);
        }
    }

    /**
     * The teacher's outputs on every example of {@code x} written once to the {@code TeacherCache}
     * {@code dir/name.kdc} and opened as an offline teacher (checked against {@code teacher}'s
     * fingerprint), so that the runs read them instead of running the teacher on each batch.
     */
    static Teacher cached(String name, Teacher teacher, INDArray x, INDArray labels, Path dir) throws IOException {
        Path file = dir.resolve(name + ".kdc");
        if (!Files.exists(file)) {
            TeacherCache.write(teacher, new InMemoryDataSetIterator(x, labels, 500, null), file);
        }
        return TeacherCache.open(file, teacher);
    }

    /** A fresh temporary directory for teacher caches; {@link #deleteTree} removes it. */
    static Path workDirectory() throws IOException {
        return Files.createTempDirectory("kd4j-example-caches");
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void writeReport(String report, String table, PrintStream out) throws IOException {
        if (report == null) {
            return;
        }
        Path p = Path.of(report);
        if (p.toAbsolutePath().getParent() != null) {
            Files.createDirectories(p.toAbsolutePath().getParent());
        }
        Files.writeString(p, table);
        out.println("wrote " + p);
    }

    static List<Long> parseSeeds(String text) {
        List<Long> seeds = new ArrayList<>();
        for (String s : text.split(",")) {
            try {
                seeds.add(Long.parseLong(s.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--seeds must be comma-separated integers, got '" + text + "'");
            }
        }
        return seeds;
    }

    /** A comma-separated list of distinct entries of {@code valid}, in the order given. */
    static List<String> parseList(String text, List<String> valid, String flag) {
        List<String> items = Arrays.stream(text.split(",")).map(String::trim).toList();
        for (String m : items) {
            if (!valid.contains(m)) {
                throw new IllegalArgumentException(flag + ": unknown entry '" + m + "'; valid: " + valid);
            }
        }
        if (items.stream().distinct().count() != items.size()) {
            throw new IllegalArgumentException(flag + " must list distinct entries, got '" + text + "'");
        }
        return items;
    }
}
