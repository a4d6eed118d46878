package io.kd4j.core.feature;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Layer-mapping strategies for matching a deep teacher with a shallow student: given the student's
 * candidate layers {@code S_1..S_m} and the teacher's {@code T_1..T_n} (in depth order, {@code m <= n}),
 * each returns the (student, teacher) pairs to tap. As compared in "Revisiting Intermediate-Layer
 * Matching in Knowledge Distillation: Layer-Selection Strategy Doesn't Matter (Much)".
 */
public final class LayerMapping {

    /** One mapped pair of layers. */
    public record Pair(String studentLayer, String teacherLayer) {
        public Pair {
            Objects.requireNonNull(studentLayer, "studentLayer");
            Objects.requireNonNull(teacherLayer, "teacherLayer");
        }
    }

    private LayerMapping() {
    }

    /** The pairs as given, in the map's iteration order (use a LinkedHashMap). */
    public static List<Pair> explicit(Map<String, String> studentToTeacher) {
        if (studentToTeacher.isEmpty()) {
            throw new IllegalArgumentException("an explicit layer mapping needs at least one pair");
        }
        List<Pair> out = new ArrayList<>();
        studentToTeacher.forEach((s, t) -> out.add(new Pair(s, t)));
        return out;
    }

    /**
     * Forward: student layer {@code i} (1-based) ↔ teacher layer {@code ⌊i·n/m⌋}, so the last student
     * layer meets the last teacher layer (for {@code n = 2m}: 2, 4, 6, ...).
     */
    public static List<Pair> forward(List<String> student, List<String> teacher) {
        check(student, teacher);
        int m = student.size();
        int n = teacher.size();
        List<Pair> out = new ArrayList<>();
        for (int i = 1; i <= m; i++) {
            out.add(new Pair(student.get(i - 1), teacher.get((int) ((long) i * n / m) - 1)));
        }
        return out;
    }

    /**
     * Uniform: the student's layers spread evenly over the teacher's, first to first and last to last:
     * student {@code i} (0-based) ↔ teacher {@code round(i·(n−1)/(m−1))}; a single student layer maps to
     * the teacher's last.
     */
    public static List<Pair> uniform(List<String> student, List<String> teacher) {
        check(student, teacher);
        int m = student.size();
        int n = teacher.size();
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            int t = m == 1 ? n - 1 : (int) Math.round((double) i * (n - 1) / (m - 1));
            out.add(new Pair(student.get(i), teacher.get(t)));
        }
        return out;
    }

    /** Last-k: the student's last {@code k} layers ↔ the teacher's last {@code k}, in order. */
    public static List<Pair> lastK(int k, List<String> student, List<String> teacher) {
        check(student, teacher);
        if (k < 1 || k > student.size()) {
            throw new IllegalArgumentException("k must be in [1, " + student.size() + "] (the student's layer count), got "
                    + k);
        }
        List<Pair> out = new ArrayList<>();
        for (int j = k; j >= 1; j--) {
            out.add(new Pair(student.get(student.size() - j), teacher.get(teacher.size() - j)));
        }
        return out;
    }

    private static void check(List<String> student, List<String> teacher) {
        if (student.isEmpty() || teacher.isEmpty()) {
            throw new IllegalArgumentException("layer lists must not be empty, got " + student.size() + " student and "
                    + teacher.size() + " teacher layers");
        }
        if (student.size() > teacher.size()) {
            throw new IllegalArgumentException("the student has more candidate layers (" + student.size()
                    + ") than the teacher (" + teacher.size() + "); map a shallow student to a deep teacher or use "
                    + "an explicit mapping");
        }
    }
}
