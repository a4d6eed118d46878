package io.kd4j.core.train;

import io.kd4j.losses.dl4j.DistillationLossFunction;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * A DL4J training listener that reads the named loss terms after every iteration, accumulates their
 * epoch means (iterations rolled back by the {@link NonFiniteGuard} are not counted), and prints
 * progress (epoch, terms, throughput, ETA) every {@code printEvery} iterations. Non-finite values are
 * the guard's business: it runs first and stops or rolls back before this listener sees them.
 */
final class TermListener extends BaseTrainingListener {
    private final TrainingIterator data;
    private final NonFiniteGuard guard;
    private final PrintStream progress;
    private final int printEvery;
    private final int epochs;
    private final Map<String, Double> sums = new LinkedHashMap<>();
    private long iterations;
    private long totalIterations;
    private int epoch = 1;
    private long epochStartNanos = System.nanoTime();
    private long runStartNanos = System.nanoTime();
    private long expectedIterationsPerEpoch = -1;

    TermListener(TrainingIterator data, NonFiniteGuard guard, PrintStream progress, int printEvery, int epochs) {
        this.data = data;
        this.guard = guard;
        this.progress = progress;
        this.printEvery = printEvery;
        this.epochs = epochs;
    }

    void startEpoch(int epoch) {
        if (epoch == 2) {
            expectedIterationsPerEpoch = iterations;
        }
        this.epoch = epoch;
        sums.clear();
        iterations = 0;
        epochStartNanos = System.nanoTime();
        if (epoch == 1) {
            runStartNanos = epochStartNanos;
        }
    }

    long iterations() {
        return iterations;
    }

    /** The epoch's running (unweighted) term sums, for checkpoints. */
    Map<String, Double> sums() {
        return new LinkedHashMap<>(sums);
    }

    /** Restores the running sums of a partly trained epoch from a checkpoint. */
    void restore(long iterations, Map<String, Double> sums) {
        this.iterations = iterations;
        this.sums.clear();
        this.sums.putAll(sums);
    }

    Map<String, Double> means() {
        Map<String, Double> m = new LinkedHashMap<>();
        sums.forEach((k, v) -> m.put(k, iterations == 0 ? 0.0 : v / iterations));
        return m;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epochIgnored) {
        if (guard.skippedLast()) {
            return;
        }
        iterations++;
        totalIterations++;
        double score = model.score();
        DistillationLossFunction fn = lossFunction(model);
        Map<String, Double> terms = fn == null ? Map.of() : fn.lastTerms();
        terms.forEach((k, v) -> sums.merge(k, v, Double::sum));
        sums.merge("total", score, Double::sum);
        if (progress != null && printEvery > 0 && iterations % printEvery == 0) {
            progress.println(progressLine(terms, score));
        }
    }

    private String progressLine(Map<String, Double> terms, double score) {
        double epochSeconds = (System.nanoTime() - epochStartNanos) / 1e9;
        double perIteration = (System.nanoTime() - runStartNanos) / 1e9 / totalIterations;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d iter %d |", epoch, epochs, iterations));
        terms.forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %.4f", k, v)));
        b.append(String.format(Locale.ROOT, " | total %.4f | %.0f examples/s", score,
                iterations * (double) data.batch() / Math.max(epochSeconds, 1e-9)));
        if (expectedIterationsPerEpoch > 0) {
            long left = expectedIterationsPerEpoch * (epochs - epoch + 1L) - iterations;
            long eta = Math.round(Math.max(0, left) * perIteration);
            b.append(String.format(Locale.ROOT, " | ETA %d:%02d", eta / 60, eta % 60));
        }
        return b.toString();
    }

    static DistillationLossFunction lossFunction(Model model) {
        org.deeplearning4j.nn.api.Layer out;
        if (model instanceof MultiLayerNetwork m) {
            out = m.getOutputLayer();
        } else if (model instanceof ComputationGraph g) {
            out = g.getOutputLayer(0);
        } else {
            return null;
        }
        org.deeplearning4j.nn.conf.layers.Layer conf = out.conf().getLayer();
        ILossFunction fn = null;
        if (conf instanceof BaseOutputLayer o) {
            fn = o.getLossFn();
        } else if (conf instanceof org.deeplearning4j.nn.conf.layers.LossLayer l) {
            fn = l.getLossFn();
        }
        return fn instanceof DistillationLossFunction d ? d : null;
    }
}
