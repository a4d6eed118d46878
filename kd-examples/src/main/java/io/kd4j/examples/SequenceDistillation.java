package io.kd4j.examples;

import io.kd4j.core.cache.CachedTopKTeacher;
import io.kd4j.core.cache.TopKCacheOptions;
import io.kd4j.core.cache.TopKTeacherCache;
import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.Distiller;
import io.kd4j.examples.data.CharSequences;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Token-level sequence distillation: a character-level LSTM language model teacher is distilled
 * into a smaller LSTM on a public-domain text shipped in the resources (the opening of Shakespeare's
 * Coriolanus). Every position of every sequence is a distillation row (the teacher's next-character
 * logits travel with the batch as {@code [batch, classes, time]} packed labels); padded positions
 * are masked. Reports held-out perplexity of the teacher, the student trained alone on the
 * characters, and the same student trained with KD.
 *
 * <p>{@code --cache dense} (default) distils from the teacher's dense logits, computed online for each
 * batch ({@code SoftTargetKl}); {@code --cache topk} first writes a per-token top-k teacher cache
 * ({@code TopKTeacherCache}, {@code --k} classes per valid step, stored at the KD temperature) and
 * distils from it with {@code SparseTopKKl}; {@code --cache both} trains one KD student of each kind
 * from the same teacher and the same initialisation. The cache's size per stored token is reported
 * next to that of dense float32 logits ({@code 4 × vocabulary} bytes).
 *
 * <p>{@code --teacher-epochs 30 --student-epochs 30 --seq-length 64 --batch 32 --teacher-hidden 128
 * --student-hidden 24 --temperature 2.0 --kd-weight 0.5 --seed 42 --cache dense|topk|both --k 8
 * [--report file.md]}.
 */
public final class SequenceDistillation {

    /** One row of the result table. */
    public record Row(String model, double perplexity, long parameters, double seconds) {
    }

    /** The example's result; {@code notes} describe the top-k cache when one was used. */
    public record Result(List<Row> rows, String objective, int trainChars, int testChars, int vocab,
                         List<String> notes) {
    }

    private SequenceDistillation() {
    }

    public static void main(String[] args) throws Exception {
        Result r = runExample(args);
        print(r, System.out);
    }

    public static Result runExample(String[] argv) throws IOException {
        Args a = Args.parse(argv);
        int teacherEpochs = a.integer("teacher-epochs", 30);
        int studentEpochs = a.integer("student-epochs", 30);
        int seqLength = a.integer("seq-length", 64);
        int batch = a.integer("batch", 32);
        int teacherHidden = a.integer("teacher-hidden", 128);
        int studentHidden = a.integer("student-hidden", 24);
        double temperature = a.real("temperature", 2.0);
        double kdWeight = a.real("kd-weight", 0.5);
        long seed = a.integer("seed", 42);
        String cache = a.text("cache", "dense");
        int k = a.integer("k", 8);
        String report = a.text("report", null);
        a.finish();
        if (!(kdWeight >= 0 && kdWeight <= 1)) {
            throw new IllegalArgumentException("--kd-weight must be in [0, 1], got " + kdWeight);
        }
        if (!List.of("dense", "topk", "both").contains(cache)) {
            throw new IllegalArgumentException("--cache must be dense, topk or both, got " + cache);
        }

        CharSequences text = CharSequences.resource(CharSequences.CORIOLANUS);
        int split = (int) (text.length() * 0.9);
        List<DataSet> train = text.batches(0, split, seqLength, batch);
        List<DataSet> test = text.batches(split, text.length(), seqLength, batch);
        int v = text.vocabSize();

        List<Row> rows = new ArrayList<>();
        long t0 = System.nanoTime();
        MultiLayerNetwork teacher = lstm(v, teacherHidden, seed);
        fit(teacher, train, teacherEpochs);
        rows.add(new Row("teacher (LSTM " + teacherHidden + ")", perplexity(teacher, test), teacher.numParams(),
                seconds(t0)));

        t0 = System.nanoTime();
        MultiLayerNetwork alone = lstm(v, studentHidden, seed + 1);
        fit(alone, train, studentEpochs);
        rows.add(new Row("student alone (LSTM " + studentHidden + ")", perplexity(alone, test), alone.numParams(),
                seconds(t0)));

        String objective = (1 - kdWeight) + "*CrossEntropy + " + kdWeight + "*SoftTargetKl(temperature=" + temperature + ")";
        String sparse = (1 - kdWeight) + "*CrossEntropy + " + kdWeight + "*SparseTopKKl(temperature=" + temperature + ")";
        String data = "Coriolanus opening, chars [0, " + split + ")";
        if (!cache.equals("topk")) {
            t0 = System.nanoTime();
            MultiLayerNetwork kd = (MultiLayerNetwork) Distiller.builder().teacher(Teacher.of(teacher)).objective(objective)
                    .epochs(studentEpochs).seed(seed).data(data).build()
                    .distill(Student.of(lstm(v, studentHidden, seed + 1)), CharSequences.iterator(train)).student();
            rows.add(new Row("student with KD (LSTM " + studentHidden + ")", perplexity(kd, test), kd.numParams(),
                    seconds(t0)));
        }
        List<String> notes = new ArrayList<>();
        if (!cache.equals("dense")) {
            t0 = System.nanoTime();
            Path file = Files.createTempFile("kd4j-sequence-", ".topk");
            try {
                TopKTeacherCache.write(Teacher.of(teacher), CharSequences.iterator(train), file,
                        new TopKCacheOptions(k, false, temperature));
                try (CachedTopKTeacher c = TopKTeacherCache.open(file)) {
                    notes.add(String.format(Locale.ROOT, "top-k cache: k=%d of %d classes (float32, at temperature %s), "
                            + "%d sequences x %d steps, %d valid steps stored (masked steps are not), %d bytes on disk "
                            + "= %.1f bytes per stored token with every section (%d per record); dense float32 logits: "
                            + "%d bytes per token", k, v, temperature, c.examples(), c.time(), c.tokens(),
                            Files.size(file), c.bytesPerToken(), k * (v <= 65536 ? 2 : 4) + 4 * k + 4, 4 * v));
                    MultiLayerNetwork kd = (MultiLayerNetwork) Distiller.builder().topKCache(c).objective(sparse)
                            .epochs(studentEpochs).seed(seed).data(data).build()
                            .distill(Student.of(lstm(v, studentHidden, seed + 1)), CharSequences.iterator(train))
                            .student();
                    rows.add(new Row("student with KD, top-k cache k=" + k + " (LSTM " + studentHidden + ")",
                            perplexity(kd, test), kd.numParams(), seconds(t0)));
                }
            } finally {
                Files.deleteIfExists(file);
            }
        }
        String objectives = cache.equals("dense") ? objective : cache.equals("topk") ? sparse
                : objective + " (dense) and " + sparse + " (top-k)";
        Result r = new Result(rows, objectives, split, text.length() - split, v, notes);
        if (report != null) {
            Path file = Path.of(report).toAbsolutePath();
            Files.createDirectories(file.getParent());
            try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, "UTF-8")) {
                print(r, out);
            }
        }
        return r;
    }

    /** A one-layer character LSTM with a softmax RnnOutputLayer. */
    static MultiLayerNetwork lstm(int vocab, int hidden, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).updater(new Adam(5e-3)).weightInit(WeightInit.XAVIER).list()
                .layer(new LSTM.Builder().nIn(vocab).nOut(hidden).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(vocab)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    private static void fit(MultiLayerNetwork net, List<DataSet> train, int epochs) {
        for (int e = 0; e < epochs; e++) {
            net.fit(CharSequences.iterator(train));
        }
    }

    /** exp of the mean negative log-likelihood of the next character over the valid (mask = 1) positions. */
    public static double perplexity(MultiLayerNetwork net, List<DataSet> data) {
        double nll = 0;
        long count = 0;
        for (DataSet d : data) {
            INDArray p = net.output(d.getFeatures(), false, d.getFeaturesMaskArray(), d.getLabelsMaskArray())
                    .castTo(DataType.DOUBLE);
            INDArray y = d.getLabels();
            INDArray m = d.getLabelsMaskArray();
            for (int b = 0; b < y.size(0); b++) {
                for (int t = 0; t < y.size(2); t++) {
                    if (m.getDouble(b, t) == 0) {
                        continue;
                    }
                    for (int c = 0; c < y.size(1); c++) {
                        if (y.getDouble(b, c, t) > 0.5) {
                            nll -= Math.log(Math.max(p.getDouble(b, c, t), 1e-300));
                            count++;
                            break;
                        }
                    }
                }
            }
        }
        return Math.exp(nll / count);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    static void print(Result r, PrintStream out) {
        out.printf(Locale.ROOT, "train %d chars, held-out %d chars, vocabulary %d; KD objective %s%n%n",
                r.trainChars(), r.testChars(), r.vocab(), r.objective());
        for (String note : r.notes()) {
            out.println(note);
            out.println();
        }
        out.println("| model | held-out perplexity | parameters | seconds |");
        out.println("| --- | --- | --- | --- |");
        for (Row row : r.rows()) {
            out.printf(Locale.ROOT, "| %s | %.3f | %d | %.1f |%n", row.model(), row.perplexity(), row.parameters(),
                    row.seconds());
        }
    }
}
