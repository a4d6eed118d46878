package io.kd4j.examples.data;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the stratified subset embedded in the examples' resources: {@code perClassTrain} training
 * and {@code perClassTest} test images per class, drawn with a seeded shuffle from the official IDX
 * files, in the same gzipped IDX format.
 *
 * <p>Command used for the shipped subset:
 * {@code java -cp ... io.kd4j.examples.data.FashionMnistSubset /usr/share/datasets/fashion-mnist
 * kd-examples/src/main/resources/fashion-mnist-subset 800 200 2024}
 */
public final class FashionMnistSubset {
    private FashionMnistSubset() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: FashionMnistSubset SOURCE_DIR OUT_DIR PER_CLASS_TRAIN PER_CLASS_TEST SEED");
            System.exit(2);
        }
        Path src = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        long seed = Long.parseLong(args[4]);
        write(src, out, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, Integer.parseInt(args[2]), seed);
        write(src, out, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS, Integer.parseInt(args[3]), seed + 1);
    }

    private static void write(Path src, Path out, String imagesName, String labelsName, int perClass, long seed)
            throws IOException {
        Idx.Images img;
        byte[] labels;
        try (InputStream a = Files.newInputStream(src.resolve(imagesName));
             InputStream b = Files.newInputStream(src.resolve(labelsName))) {
            img = Idx.readImages(a, imagesName);
            labels = Idx.readLabels(b, labelsName);
        }
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            byClass.get(labels[i]).add(i);
        }
        Random rnd = new Random(seed);
        List<Integer> chosen = new ArrayList<>();
        for (List<Integer> idx : byClass) {
            Collections.shuffle(idx, rnd);
            chosen.addAll(idx.subList(0, perClass));
        }
        Collections.shuffle(chosen, rnd);
        int pixels = img.rows() * img.cols();
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(out.resolve(imagesName))))) {
            o.writeInt(2051);
            o.writeInt(chosen.size());
            o.writeInt(img.rows());
            o.writeInt(img.cols());
            for (int i : chosen) {
                o.write(img.pixels(), i * pixels, pixels);
            }
        }
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(out.resolve(labelsName))))) {
            o.writeInt(2049);
            o.writeInt(chosen.size());
            for (int i : chosen) {
                o.writeByte(labels[i]);
            }
        }
    }
}
