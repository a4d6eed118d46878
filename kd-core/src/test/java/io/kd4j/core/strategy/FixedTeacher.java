package io.kd4j.core.strategy;

import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A test teacher that returns the same logits for every batch. */
record FixedTeacher(INDArray fixed, String name) implements Teacher {
    @Override
    public INDArray logits(TeacherBatch batch) {
        return fixed.dup();
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public String fingerprint() {
        return name;
    }
}
