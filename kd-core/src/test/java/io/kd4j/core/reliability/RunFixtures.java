package io.kd4j.core.reliability;

import io.kd4j.core.Fixtures;
import io.kd4j.core.data.InMemoryDataSetIterator;
import io.kd4j.core.teacher.Teacher;
import io.kd4j.core.teacher.TeacherBatch;
import io.kd4j.core.train.Distiller;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The run that the reliability tests interrupt, resume and repeat: 512 blobs, batch 32, 3 epochs, dropout. */
public final class RunFixtures {
    public static final int EXAMPLES = 512;
    public static final int BATCH = 32;
    public static final int EPOCHS = 3;
    public static final int BATCHES_PER_EPOCH = EXAMPLES / BATCH;
    public static final String OBJECTIVE = "0.5*CrossEntropy + 0.5*SoftTargetKl(temperature=2.0)";

    private RunFixtures() {
    }

    public static List<DataSet> data() {
        return Fixtures.blobs(EXAMPLES, 1);
    }

    /** Shuffled every epoch with a fixed seed, so a resume must replay the resets to see the same order. */
    public static InMemoryDataSetIterator shuffled(List<DataSet> data) {
        DataSet all = DataSet.merge(data);
        return new InMemoryDataSetIterator(all.getFeatures(), all.getLabels(), BATCH, 11L);
    }

    /** A fresh student with dropout (so the run's random draws matter). */
    public static MultiLayerNetwork student() {
        return Fixtures.mlp(16, 5, 0.2);
    }

    public static Distiller.Builder distiller(Teacher teacher, long seed) {
        return Distiller.builder().teacher(teacher).objective(OBJECTIVE).epochs(EPOCHS).seed(seed).data("blobs");
    }

    /** A teacher that returns NaN logits for the batch whose first example is at {@code badFirstExample}. */
    public static Teacher nanForBatchAt(Teacher inner, long badFirstExample) {
        return new Teacher() {
            @Override
            public INDArray logits(TeacherBatch batch) {
                INDArray l = inner.logits(batch);
                return batch.firstExample() == badFirstExample ? Nd4j.valueArrayOf(l.shape(), Double.NaN, l.dataType()) : l;
            }

            @Override
            public String describe() {
                return "NaN-injecting " + inner.describe();
            }

            @Override
            public String fingerprint() {
                return inner.fingerprint();
            }
        };
    }

    /** Throws (a simulated crash) when the run reaches its {@code k}-th optimisation step of this listener's life. */
    public static final class CrashAt extends BaseTrainingListener {
        private final int k;
        private int seen;

        public CrashAt(int k) {
            this.k = k;
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            if (++seen == k) {
                throw new SimulatedCrash("simulated crash after step " + k);
            }
        }
    }

    /** Counts optimisation steps. */
    public static final class CountSteps extends BaseTrainingListener {
        public int steps;

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            steps++;
        }
    }

    public static final class SimulatedCrash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SimulatedCrash(String m) {
            super(m);
        }
    }
}
