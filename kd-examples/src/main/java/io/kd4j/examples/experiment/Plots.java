package io.kd4j.examples.experiment;

import io.kd4j.core.metrics.Calibration;
import io.kd4j.core.train.EpochStats;
import io.kd4j.examples.ExperimentRunner;
import io.kd4j.losses.logit.Ltkd.Group;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/** PNG plots of an experiment with XChart: learning curves per named term, per-group bars, reliability diagrams. */
public final class Plots {
    private static final int COLUMNS = 3;

    private Plots() {
    }

    /** Writes the plots into {@code dir}; returns their file names. */
    public static List<String> write(ExperimentRunner.Result r, Path dir) throws IOException {
        Files.createDirectories(dir);
        String name = r.recipe().name();
        List<String> files = new ArrayList<>();
        files.add(save(learningCurves(r), dir, name + "-learning-curves.png"));
        if (r.groups() != null) {
            files.add(save(List.of(groupBars(r)), dir, name + "-group-accuracy.png"));
        }
        files.add(save(reliability(r), dir, name + "-reliability.png"));
        return files;
    }

    /** Renders the charts on a grid of {@link #COLUMNS} columns (the last row may be short) into one PNG. */
    private static <T extends Chart<?, ?>> String save(List<T> charts, Path dir, String file) throws IOException {
        List<BufferedImage> images = new ArrayList<>();
        for (T chart : charts) {
            images.add(BitmapEncoder.getBufferedImage(chart));
        }
        int cols = Math.min(COLUMNS, images.size());
        int rows = (images.size() + cols - 1) / cols;
        int w = images.stream().mapToInt(BufferedImage::getWidth).max().orElse(1);
        int h = images.stream().mapToInt(BufferedImage::getHeight).max().orElse(1);
        BufferedImage grid = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        for (int i = 0; i < images.size(); i++) {
            g.drawImage(images.get(i), (i % cols) * w, (i / cols) * h, null);
        }
        g.dispose();
        ImageIO.write(grid, "png", dir.resolve(file).toFile());
        return file;
    }

    /** One chart per run: each named term's epoch mean (first seed), against the epoch. */
    static List<XYChart> learningCurves(ExperimentRunner.Result r) {
        List<XYChart> charts = new ArrayList<>();
        for (ExperimentRunner.RunResult run : r.runs()) {
            List<EpochStats> epochs = run.seeds().get(0).epochs();
            XYChart c = new XYChartBuilder().width(480).height(320).title(run.label() + " (first seed)")
                    .xAxisTitle("epoch").yAxisTitle("epoch-mean term").build();
            c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(4);
            Set<String> terms = new LinkedHashSet<>();
            epochs.forEach(e -> terms.addAll(e.meanTerms().keySet()));
            double[] x = epochs.stream().mapToDouble(EpochStats::epoch).toArray();
            for (String term : terms) {
                double[] y = epochs.stream().mapToDouble(e -> e.meanTerms().getOrDefault(term, 0.0)).toArray();
                c.addSeries(term, x, y);
            }
            charts.add(c);
        }
        return charts;
    }

    /** Test accuracy per group, mean over seeds with the sample std as error bars; the teacher first. */
    static CategoryChart groupBars(ExperimentRunner.Result r) {
        CategoryChart c = new CategoryChartBuilder().width(1200).height(480)
                .title("Test accuracy per class group (mean ± std over seeds)").xAxisTitle("model")
                .yAxisTitle("accuracy (%)").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
        c.getStyler().setErrorBarsColorSeriesColor(false);
        List<String> labels = new ArrayList<>();
        labels.add("teacher");
        r.runs().forEach(run -> labels.add(run.label()));
        for (Group g : Group.values()) {
            List<Double> mean = new ArrayList<>();
            List<Double> std = new ArrayList<>();
            mean.add(100 * r.teacher().groups().get(g));
            std.add(0.0);
            for (ExperimentRunner.RunResult run : r.runs()) {
                mean.add(100 * Stats.mean(run.seeds(), m -> m.groups().get(g)));
                std.add(100 * Stats.std(run.seeds(), m -> m.groups().get(g)));
            }
            c.addSeries(g.name().toLowerCase(Locale.ROOT), labels, mean, std);
        }
        return c;
    }

    /** One reliability diagram per model (first seed): accuracy and mean confidence of the non-empty bins. */
    static List<CategoryChart> reliability(ExperimentRunner.Result r) {
        List<CategoryChart> charts = new ArrayList<>();
        charts.add(reliabilityChart("teacher", r.teacher()));
        for (ExperimentRunner.RunResult run : r.runs()) {
            charts.add(reliabilityChart(run.label(), run.seeds().get(0)));
        }
        return charts;
    }

    private static CategoryChart reliabilityChart(String label, Measurement m) {
        CategoryChart c = new CategoryChartBuilder().width(480).height(320)
                .title(String.format(Locale.ROOT, "%s: ECE %.2f %%", label, 100 * m.ece()))
                .xAxisTitle("confidence bin (upper edge)").yAxisTitle("fraction").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        c.getStyler().setXAxisLabelRotation(60);
        c.getStyler().setOverlapped(true);
        List<String> bins = new ArrayList<>();
        List<Double> acc = new ArrayList<>();
        List<Double> conf = new ArrayList<>();
        for (Calibration.Bin b : m.reliability()) {
            if (b.count() > 0) {
                bins.add(String.format(Locale.ROOT, "%.2f", b.upper()));
                acc.add(b.accuracy());
                conf.add(b.meanConfidence());
            }
        }
        c.addSeries("mean confidence", bins, conf);
        c.addSeries("accuracy", bins, acc);
        return c;
    }
}
