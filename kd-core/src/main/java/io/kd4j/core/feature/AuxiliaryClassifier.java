package io.kd4j.core.feature;

import io.kd4j.losses.catalogue.Objective;
import java.util.Objects;

/**
 * An auxiliary classifier on an intermediate student layer (deep supervision): a head that maps the
 * tapped activation to class logits and is trained with a logit objective against the run's packed
 * targets, i.e. the hard labels and the teacher's logits of the main output. With a
 * {@link SelfTeacher} that teacher is the student's own deepest classifier, which makes this the
 * auxiliary-classifier part of "Be Your Own Teacher" (Zhang et al., ICCV 2019): each shallow
 * classifier learns from the labels (cross-entropy) and from the deepest classifier's softened
 * outputs (KL), e.g. {@code 0.7*CrossEntropy + 0.3*SoftTargetKl(temperature=3.0)}.
 *
 * <p>The head: for a dense tap {@code [batch, features]} an {@code OutputLayer} (identity activation,
 * {@code classes} units); for a convolutional tap {@code [batch, channels, h, w]} a global average
 * pooling followed by that layer. Its loss is a {@code DistillationLossFunction} of {@code objective}.
 * Heads are trained jointly with the student and are not part of the exported student.
 *
 * @param name the head's name in the logs and the report (unique within a run)
 * @param studentLayer the student's vertex name or layer index (not its output layer)
 * @param objective the head's logit objective as a formula (weights included)
 */
public record AuxiliaryClassifier(String name, String studentLayer, String objective) {

    public AuxiliaryClassifier {
        Objects.requireNonNull(name, "auxiliary classifier name must not be null");
        Objects.requireNonNull(studentLayer, "studentLayer must not be null");
        if (!name.matches("[A-Za-z0-9_.#@-]+")) {
            throw new IllegalArgumentException("auxiliary classifier name must be letters, digits or _.#@-, got '"
                    + name + "'");
        }
        objective = Objective.parse(Objects.requireNonNull(objective, "objective must not be null")).describe();
    }

    /** An auxiliary classifier named {@code aux@studentLayer}. */
    public static AuxiliaryClassifier of(String studentLayer, String objective) {
        return new AuxiliaryClassifier("aux@" + studentLayer, studentLayer, objective);
    }

    /** This classifier with another name. */
    public AuxiliaryClassifier named(String newName) {
        return new AuxiliaryClassifier(newName, studentLayer, objective);
    }

    @Override
    public String toString() {
        return name + " = " + objective + "[classifier on student " + studentLayer + "]";
    }
}
