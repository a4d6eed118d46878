package io.kd4j.core.strategy;

import io.kd4j.core.student.Student;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.train.DistillationResult;
import io.kd4j.core.train.Distiller;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Born-again self-distillation over generations (Furlanello et al., "Born-Again Neural Networks",
 * ICML 2018): generation 1 is distilled from a given teacher, and the student of generation
 * {@code g} is the frozen teacher of generation {@code g + 1}.
 *
 * <pre>{@code
 * BornAgain.Result r = BornAgain.of(
 *         teacher -> Distiller.builder().teacher(teacher).objective("0.5*CrossEntropy + 0.5*SoftTargetKl").epochs(5).build(),
 *         generation -> Student.of(freshNetwork(generation)))
 *     .run(Teacher.of(trainedNet), 3, train);
 * Teacher ban = r.ensemble(MultiTeacher.Aggregation.AVERAGE_PROBABILITIES, 1.0); // BAN ensemble
 * }</pre>
 *
 * The distiller factory decides the objective, epochs and seed of each generation; the student
 * factory returns a fresh, initialised student for generation {@code g} (1-based).
 */
public final class BornAgain {
    private final Function<Teacher, Distiller> distillerForTeacher;
    private final IntFunction<Student> studentForGeneration;

    private BornAgain(Function<Teacher, Distiller> distillerForTeacher, IntFunction<Student> studentForGeneration) {
        this.distillerForTeacher = Objects.requireNonNull(distillerForTeacher, "distiller factory must not be null");
        this.studentForGeneration = Objects.requireNonNull(studentForGeneration, "student factory must not be null");
    }

    /** Born-again training with a distiller per teacher and a fresh student per generation. */
    public static BornAgain of(Function<Teacher, Distiller> distillerForTeacher, IntFunction<Student> studentForGeneration) {
        return new BornAgain(distillerForTeacher, studentForGeneration);
    }

    /**
     * Runs {@code generations} generations.
     *
     * @param first the teacher of generation 1 (e.g. a network trained on the hard labels)
     * @param train the training data (resettable: it is read once per generation and epoch)
     */
    public Result run(Teacher first, int generations, DataSetIterator train) {
        Objects.requireNonNull(first, "first teacher must not be null");
        if (generations < 1) {
            throw new IllegalArgumentException("generations must be >= 1, got " + generations);
        }
        List<DistillationResult> results = new ArrayList<>();
        Teacher teacher = first;
        for (int g = 1; g <= generations; g++) {
            Student student = Objects.requireNonNull(studentForGeneration.apply(g),
                    "the student factory returned null for generation " + g);
            Distiller distiller = Objects.requireNonNull(distillerForTeacher.apply(teacher),
                    "the distiller factory returned null for generation " + g);
            DistillationResult r = distiller.distill(student, train);
            results.add(r);
            teacher = teacherOf(r.student());
        }
        return new Result(results);
    }

    /** A frozen teacher from a trained plain student. */
    static Teacher teacherOf(Model model) {
        if (model instanceof MultiLayerNetwork m) {
            return Teacher.of(m);
        }
        if (model instanceof ComputationGraph g) {
            return Teacher.of(g);
        }
        throw new IllegalArgumentException("cannot make a teacher of a " + model.getClass().getName());
    }

    /**
     * The generations' results, in order.
     *
     * @param generations one distillation result per generation
     */
    public record Result(List<DistillationResult> generations) {
        public Result {
            generations = List.copyOf(generations);
        }

        /** The last generation's result. */
        public DistillationResult last() {
            return generations.get(generations.size() - 1);
        }

        /** The generations' students as one teacher (the born-again ensemble of the paper). */
        public MultiTeacher ensemble(MultiTeacher.Aggregation aggregation, double temperature) {
            MultiTeacher.Builder b = MultiTeacher.builder().aggregation(aggregation).temperature(temperature);
            for (DistillationResult r : generations) {
                b.add(teacherOf(r.student()));
            }
            return b.build();
        }
    }
}
