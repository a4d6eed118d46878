package io.kd4j.examples.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Fashion-MNIST from local IDX files, never downloaded: a directory given by the user, the Debian
 * package {@code dataset-fashion-mnist} ({@code /usr/share/datasets/fashion-mnist}), or the
 * stratified subset embedded in this module's resources (800 training and 200 test images per
 * class, drawn with seed 2024 from the official files by {@link FashionMnistSubset}).
 */
public final class FashionMnist {
    /** Where the Debian package installs the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The ten class names. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";
    private static final String RESOURCE_DIR = "/fashion-mnist-subset/";

    private FashionMnist() {
    }

    /**
     * A split: features {@code [n, 784]} scaled to [0, 1], one-hot labels {@code [n, 10]}, and the
     * raw class indices.
     */
    public record Split(INDArray features, INDArray labels, int[] classes) {
        public int size() {
            return classes.length;
        }

        /** The first {@code n} examples ({@code --train-limit}); this split itself when {@code n <= 0} or n >= size. */
        public Split first(int n) {
            if (n <= 0 || n >= size()) {
                return this;
            }
            return new Split(features.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup(),
                    labels.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup(), Arrays.copyOf(classes, n));
        }
    }

    /** Train and test splits and where they came from. */
    public record Data(Split train, Split test, String source) {
    }

    /**
     * Loads the data: from {@code dir} when given ("embedded" forces the embedded subset), else the
     * Debian package's directory when present, else the embedded subset.
     */
    public static Data load(String dir) throws IOException {
        if (dir != null && !dir.equals("embedded")) {
            return fromDirectory(Path.of(dir));
        }
        if (dir == null && Files.isRegularFile(DEBIAN_DIR.resolve(TRAIN_IMAGES))) {
            return fromDirectory(DEBIAN_DIR);
        }
        return embedded();
    }

    /** The full data set from a directory holding the four IDX files. */
    public static Data fromDirectory(Path dir) throws IOException {
        for (String f : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IOException("Fashion-MNIST file " + dir.resolve(f) + " is missing; --data must name a "
                        + "directory holding " + List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
                        + " (e.g. " + DEBIAN_DIR + " from the Debian package dataset-fashion-mnist)");
            }
        }
        Split train = split(Files.newInputStream(dir.resolve(TRAIN_IMAGES)), Files.newInputStream(dir.resolve(TRAIN_LABELS)),
                dir.resolve(TRAIN_IMAGES).toString());
        Split test = split(Files.newInputStream(dir.resolve(TEST_IMAGES)), Files.newInputStream(dir.resolve(TEST_LABELS)),
                dir.resolve(TEST_IMAGES).toString());
        return new Data(train, test, "Fashion-MNIST from " + dir + " (" + train.size() + " train / " + test.size() + " test)");
    }

    /** The embedded stratified subset. */
    public static Data embedded() throws IOException {
        Split train = split(resource(TRAIN_IMAGES), resource(TRAIN_LABELS), "embedded " + TRAIN_IMAGES);
        Split test = split(resource(TEST_IMAGES), resource(TEST_LABELS), "embedded " + TEST_IMAGES);
        return new Data(train, test, "embedded Fashion-MNIST subset (" + train.size() + " train / " + test.size()
                + " test, stratified, seed 2024)");
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = FashionMnist.class.getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new IOException("embedded Fashion-MNIST resource " + RESOURCE_DIR + name + " is missing from the classpath");
        }
        return in;
    }

    private static Split split(InputStream images, InputStream labels, String name) throws IOException {
        Idx.Images img = Idx.readImages(images, name);
        byte[] lab = Idx.readLabels(labels, name.replace("images-idx3", "labels-idx1"));
        if (img.count() != lab.length) {
            throw new IOException(name + ": " + img.count() + " images but " + lab.length + " labels");
        }
        int pixels = img.rows() * img.cols();
        float[] x = new float[img.count() * pixels];
        for (int i = 0; i < x.length; i++) {
            x[i] = (img.pixels()[i] & 0xff) / 255f;
        }
        float[] y = new float[img.count() * 10];
        int[] classes = new int[img.count()];
        for (int i = 0; i < lab.length; i++) {
            int c = lab[i] & 0xff;
            if (c > 9) {
                throw new IOException(name + ": label " + c + " at index " + i + " is outside [0, 9]");
            }
            classes[i] = c;
            y[i * 10 + c] = 1f;
        }
        return new Split(Nd4j.create(x, new long[] {img.count(), pixels}, 'c').castTo(DataType.FLOAT),
                Nd4j.create(y, new long[] {img.count(), 10}, 'c'), classes);
    }
}
