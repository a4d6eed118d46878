package io.kd4j.core.train;

import io.kd4j.core.checkpoint.NetworkState;
import io.kd4j.losses.dl4j.DistillationLossFunction;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops (or skips) an iteration whose loss terms, score or gradient are non-finite <em>before</em>
 * DL4J's updater applies it, and checks the parameters after every update.
 *
 * <p>DL4J calls {@link #onGradientCalculation} after the gradient is computed and before the updater
 * touches it or its own state; {@link #iterationDone} after the step. With {@link NonFinitePolicy#STOP}
 * the first non-finite value throws {@link NonFiniteLossException} (the parameters still hold the
 * last good step). With {@link NonFinitePolicy#SKIP_BATCH} the parameters and updater state are copied
 * before every step and restored after a bad one. Register it as the first listener.
 */
final class NonFiniteGuard extends BaseTrainingListener {
    private static final Logger LOG = LoggerFactory.getLogger(NonFiniteGuard.class);

    private final NonFinitePolicy policy;
    private final TrainingIterator data;
    private INDArray paramsBefore;
    private INDArray updaterBefore;
    private String badThisIteration;
    private boolean skippedLast;

    NonFiniteGuard(NonFinitePolicy policy, TrainingIterator data) {
        this.policy = policy;
        this.data = data;
    }

    /** Whether the last finished iteration was rolled back (its terms must not be counted). */
    boolean skippedLast() {
        return skippedLast;
    }

    @Override
    public void onGradientCalculation(Model model) {
        badThisIteration = null;
        if (policy == NonFinitePolicy.SKIP_BATCH) {
            paramsBefore = model.params().dup();
            INDArray u = NetworkState.updaterState(model);
            updaterBefore = u == null ? null : u.dup();
        }
        DistillationLossFunction fn = TermListener.lossFunction(model);
        Map<String, Double> terms = fn == null ? Map.of() : fn.lastTerms();
        for (Map.Entry<String, Double> e : terms.entrySet()) {
            if (badThisIteration == null && !Double.isFinite(e.getValue())) {
                badThisIteration = "loss term " + e.getKey() + " = " + e.getValue();
            }
        }
        if (badThisIteration == null && !Double.isFinite(model.score())) {
            badThisIteration = "score = " + model.score();
        }
        Gradient g = model.gradient();
        if (badThisIteration == null && g != null && !NetworkState.isFinite(g.gradient())) {
            badThisIteration = "gradient (score " + model.score() + ", terms " + terms + ")";
        }
        if (badThisIteration != null && policy == NonFinitePolicy.STOP) {
            throw new NonFiniteLossException(message(badThisIteration) + "; stopping before the update: the student "
                    + "is not saved");
        }
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        skippedLast = false;
        if (badThisIteration == null && !NetworkState.isFinite(model.params())) {
            badThisIteration = "parameters after the update";
            if (policy == NonFinitePolicy.STOP) {
                throw new NonFiniteLossException(message(badThisIteration) + "; stopping: the student is not saved");
            }
        }
        if (badThisIteration != null) {
            model.params().assign(paramsBefore);
            INDArray u = NetworkState.updaterState(model);
            if (u != null) {
                u.assign(updaterBefore);
            }
            data.countSkip();
            skippedLast = true;
            LOG.warn("{}; batch skipped, parameters and updater state rolled back (policy SKIP_BATCH)",
                    message(badThisIteration));
        }
        paramsBefore = null;
        updaterBefore = null;
    }

    private String message(String what) {
        return "non-finite " + what + " at iteration " + data.steps() + " (" + data.describeBatch() + ")";
    }
}
