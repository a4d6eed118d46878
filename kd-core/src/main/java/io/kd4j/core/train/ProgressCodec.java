package io.kd4j.core.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Epoch statistics and running term sums as checkpoint text (doubles round-trip exactly). */
final class ProgressCodec {
    private ProgressCodec() {
    }

    static Map<String, String> encode(List<EpochStats> epochs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (EpochStats e : epochs) {
            String p = "epoch." + e.epoch() + ".";
            m.put(p + "iterations", Long.toString(e.iterations()));
            m.put(p + "examples", Long.toString(e.examples()));
            m.put(p + "teacherSeconds", Double.toString(e.teacherSeconds()));
            m.put(p + "studentSeconds", Double.toString(e.studentSeconds()));
            e.meanTerms().forEach((k, v) -> m.put(p + "term." + k, Double.toString(v)));
        }
        return m;
    }

    static List<EpochStats> epochs(Map<String, String> progress, int count) {
        List<EpochStats> out = new ArrayList<>();
        for (int epoch = 1; epoch <= count; epoch++) {
            String p = "epoch." + epoch + ".";
            if (!progress.containsKey(p + "iterations")) {
                throw new IllegalArgumentException("checkpoint progress has no statistics for completed epoch " + epoch);
            }
            out.add(new EpochStats(epoch, Long.parseLong(progress.get(p + "iterations")),
                    Long.parseLong(progress.get(p + "examples")), sums(progress, p + "term."),
                    Double.parseDouble(progress.get(p + "teacherSeconds")),
                    Double.parseDouble(progress.get(p + "studentSeconds"))));
        }
        return out;
    }

    static Map<String, Double> sums(Map<String, String> progress, String prefix) {
        Map<String, Double> m = new LinkedHashMap<>();
        progress.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).sorted(Map.Entry.comparingByKey())
                .forEach(e -> m.put(e.getKey().substring(prefix.length()), Double.parseDouble(e.getValue())));
        return m;
    }
}
