package io.kd4j.examples.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Character-level next-character sequences from a text shipped in the examples' resources: one-hot
 * inputs {@code [batch, vocab, time]}, one-hot next characters as labels, and {@code [batch, time]}
 * masks (the last, shorter window of a split is padded and masked, so masks are exercised).
 */
public final class CharSequences {
    /** The text shipped with the examples: the opening of Shakespeare's Coriolanus (public domain). */
    public static final String CORIOLANUS = "/io/kd4j/examples/text/coriolanus.txt";

    private final String text;
    private final char[] vocab;
    private final int[] index = new int[Character.MAX_VALUE + 1];

    private CharSequences(String text) {
        if (text.length() < 3) {
            throw new IllegalArgumentException("text must have at least 3 characters, got " + text.length());
        }
        this.text = text;
        TreeSet<Character> chars = new TreeSet<>();
        for (char c : text.toCharArray()) {
            chars.add(c);
        }
        vocab = new char[chars.size()];
        int i = 0;
        for (char c : chars) {
            vocab[i] = c;
            index[c] = i++;
        }
    }

    /** Reads a UTF-8 text resource. */
    public static CharSequences resource(String path) throws IOException {
        try (InputStream in = CharSequences.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("text resource " + path + " is missing from the class path");
            }
            return new CharSequences(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** Number of distinct characters. */
    public int vocabSize() {
        return vocab.length;
    }

    /** Number of characters. */
    public int length() {
        return text.length();
    }

    /**
     * Batches of windows over {@code text[from, to)}: inputs {@code text[s, s+L)}, labels
     * {@code text[s+1, s+L+1)}, stride {@code L}; the last window may be shorter and is masked.
     */
    public List<DataSet> batches(int from, int to, int seqLength, int batchSize) {
        if (seqLength < 1 || batchSize < 1) {
            throw new IllegalArgumentException("seqLength and batchSize must be >= 1, got " + seqLength + " and " + batchSize);
        }
        if (from < 0 || to > text.length() || to - from < 2) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") must lie in the text (length "
                    + text.length() + ") and hold at least 2 characters");
        }
        List<int[]> windows = new ArrayList<>();
        for (int s = from; s + 1 < to; s += seqLength) {
            windows.add(new int[] {s, Math.min(seqLength, to - 1 - s)});
        }
        List<DataSet> out = new ArrayList<>();
        int v = vocab.length;
        for (int b0 = 0; b0 < windows.size(); b0 += batchSize) {
            int n = Math.min(batchSize, windows.size() - b0);
            INDArray x = Nd4j.zeros(DataType.FLOAT, n, v, seqLength);
            INDArray y = Nd4j.zeros(DataType.FLOAT, n, v, seqLength);
            INDArray mask = Nd4j.zeros(DataType.FLOAT, n, seqLength);
            for (int i = 0; i < n; i++) {
                int[] w = windows.get(b0 + i);
                for (int t = 0; t < w[1]; t++) {
                    x.putScalar(new long[] {i, index[text.charAt(w[0] + t)], t}, 1f);
                    y.putScalar(new long[] {i, index[text.charAt(w[0] + t + 1)], t}, 1f);
                    mask.putScalar(new long[] {i, t}, 1f);
                }
            }
            out.add(new DataSet(x, y, mask, mask.dup()));
        }
        return out;
    }

    /** A resettable iterator over pre-built batches (masks kept), in order. */
    public static DataSetIterator iterator(List<DataSet> batches) {
        return new BatchIterator(batches);
    }

    private static final class BatchIterator implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        private final List<DataSet> batches;
        private int cursor;
        private transient DataSetPreProcessor preProcessor;

        BatchIterator(List<DataSet> batches) {
            this.batches = List.copyOf(batches);
        }

        @Override
        public DataSet next(int num) {
            return next();
        }

        @Override
        public DataSet next() {
            if (!hasNext()) {
                throw new NoSuchElementException("no more batches; call reset()");
            }
            DataSet d = batches.get(cursor++).copy();
            if (preProcessor != null) {
                preProcessor.preProcess(d);
            }
            return d;
        }

        @Override
        public boolean hasNext() {
            return cursor < batches.size();
        }

        @Override
        public int inputColumns() {
            return (int) batches.get(0).getFeatures().size(1);
        }

        @Override
        public int totalOutcomes() {
            return (int) batches.get(0).getLabels().size(1);
        }

        @Override
        public boolean resetSupported() {
            return true;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            cursor = 0;
        }

        @Override
        public int batch() {
            return (int) batches.get(0).getFeatures().size(0);
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            this.preProcessor = preProcessor;
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return preProcessor;
        }

        @Override
        public List<String> getLabels() {
            return null;
        }
    }
}
