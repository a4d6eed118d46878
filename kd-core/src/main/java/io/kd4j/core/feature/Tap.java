package io.kd4j.core.feature;

import io.kd4j.losses.feature.FeatureLoss;
import java.util.Objects;

/**
 * One feature term: a student layer, a teacher layer, a feature loss, its weight and an adapter.
 * Layers are named as the networks name them: a ComputationGraph vertex name, or a MultiLayerNetwork
 * layer index as text ({@code "2"}); the user's model definitions are not changed.
 *
 * @param name the term's name in the objective, the logs and the report (unique within a run)
 * @param studentLayer the student's vertex name or layer index
 * @param teacherLayer the teacher's vertex name or layer index
 * @param loss the feature loss, by catalogue formula, e.g. {@code AttentionTransfer(p=2.0)}
 * @param weight the term's weight (the paper's {@code beta}), finite and &gt;= 0
 * @param adapter the adapter on the student tap
 */
public record Tap(String name, String studentLayer, String teacherLayer, String loss, double weight, Adapter adapter) {

    public Tap {
        Objects.requireNonNull(name, "tap name must not be null");
        Objects.requireNonNull(studentLayer, "studentLayer must not be null");
        Objects.requireNonNull(teacherLayer, "teacherLayer must not be null");
        Objects.requireNonNull(adapter, "adapter must not be null");
        if (!name.matches("[A-Za-z0-9_.#@-]+")) {
            throw new IllegalArgumentException("tap name must be letters, digits or _.#@-, got '" + name + "'");
        }
        if (!Double.isFinite(weight) || weight < 0) {
            throw new IllegalArgumentException("weight of tap " + name + " must be finite and >= 0, got " + weight);
        }
        loss = FeatureLossFunction.parse(Objects.requireNonNull(loss, "loss must not be null")).describe();
    }

    /** A tap named {@code LossName@studentLayer} with an {@link Adapter#AUTO} adapter. */
    public static Tap of(String studentLayer, String teacherLayer, double weight, String loss) {
        String lossName = FeatureLossFunction.parse(loss).name();
        return new Tap(lossName + "@" + studentLayer, studentLayer, teacherLayer, loss, weight, Adapter.AUTO);
    }

    /** This tap with another adapter. */
    public Tap withAdapter(Adapter a) {
        return new Tap(name, studentLayer, teacherLayer, loss, weight, a);
    }

    /** This tap with another name. */
    public Tap named(String newName) {
        return new Tap(newName, studentLayer, teacherLayer, loss, weight, adapter);
    }

    /** A fresh instance of the loss (stateful losses such as CRD start empty). */
    public FeatureLoss newLoss() {
        return FeatureLossFunction.parse(loss);
    }

    @Override
    public String toString() {
        return name + " = " + weight + "*" + loss + "[student " + studentLayer + " -> teacher " + teacherLayer
                + ", adapter " + adapter + "]";
    }
}
