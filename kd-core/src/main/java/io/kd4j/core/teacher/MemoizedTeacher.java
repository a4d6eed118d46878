package io.kd4j.core.teacher;

import io.kd4j.core.data.FeatureHash;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A teacher that remembers, in memory, what its wrapped teacher produced for each example (logits and
 * requested intermediate activations), keyed by the example's feature hash ({@link FeatureHash}), so that
 * from the second epoch on the wrapped network does not run again. Meant for feature distillation on data
 * that fits in memory (a {@link io.kd4j.core.cache.TeacherCache} file holds logits only); the outputs are the
 * wrapped teacher's own, so the fingerprint is the wrapped one's.
 *
 * <p>A batch is served from memory only when every example of it is remembered; otherwise the wrapped teacher
 * runs on the whole batch and every example's output is remembered. Batches with a features mask, and logits
 * that are not {@code [batch, classes]}, pass through unremembered. Memory: {@code 4 or 8 bytes × (classes +
 * the tapped activations' sizes)} per example; past {@code maxBytes} nothing more is remembered (logged once)
 * and the wrapped teacher runs for the rest. Not thread-safe: one training thread, as the distillers use it.
 */
public final class MemoizedTeacher implements Teacher {
    private static final Logger LOG = LoggerFactory.getLogger(MemoizedTeacher.class);
    private static final String LOGITS = "\u0000logits";

    private final Teacher teacher;
    private final long maxBytes;
    private final Map<String, Map<Long, Object>> rows = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private long bytes;
    private boolean full;

    private MemoizedTeacher(Teacher teacher, long maxBytes) {
        this.teacher = Objects.requireNonNull(teacher, "teacher must not be null");
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be > 0, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** Remembers up to 1 GiB of outputs. */
    public static MemoizedTeacher of(Teacher teacher) {
        return new MemoizedTeacher(teacher, 1L << 30);
    }

    /** Remembers up to {@code maxBytes} of outputs. */
    public static MemoizedTeacher of(Teacher teacher, long maxBytes) {
        return new MemoizedTeacher(teacher, maxBytes);
    }

    /** Bytes of outputs remembered so far. */
    public long bytes() {
        return bytes;
    }

    @Override
    public INDArray logits(TeacherBatch batch) {
        if (batch.featuresMask() != null) {
            return teacher.logits(batch);
        }
        long[] hashes = FeatureHash.perExample(batch.features());
        INDArray hit = lookup(LOGITS, hashes);
        if (hit != null) {
            return hit;
        }
        INDArray out = teacher.logits(batch);
        if (out.rank() == 2) {
            remember(LOGITS, hashes, out);
        }
        return out;
    }

    @Override
    public Map<String, INDArray> activations(TeacherBatch batch, List<String> layers) {
        if (batch.featuresMask() != null) {
            return teacher.activations(batch, layers);
        }
        long[] hashes = FeatureHash.perExample(batch.features());
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String layer : layers) {
            INDArray hit = lookup(layer, hashes);
            if (hit == null) {
                Map<String, INDArray> computed = teacher.activations(batch, layers);
                for (String l : layers) {
                    remember(l, hashes, computed.get(l));
                }
                return computed;
            }
            out.put(layer, hit);
        }
        return out;
    }

    private INDArray lookup(String key, long[] hashes) {
        Map<Long, Object> m = rows.get(key);
        long[] perExample = shapes.get(key);
        if (m == null || perExample == null || hashes.length == 0) {
            return null;
        }
        Object[] found = new Object[hashes.length];
        for (int i = 0; i < hashes.length; i++) {
            found[i] = m.get(hashes[i]);
            if (found[i] == null) {
                return null;
            }
        }
        long[] shape = new long[perExample.length + 1];
        shape[0] = hashes.length;
        System.arraycopy(perExample, 0, shape, 1, perExample.length);
        if (found[0] instanceof double[]) {
            int w = ((double[]) found[0]).length;
            double[] all = new double[hashes.length * w];
            for (int i = 0; i < hashes.length; i++) {
                System.arraycopy((double[]) found[i], 0, all, i * w, w);
            }
            return Nd4j.create(all, shape, DataType.DOUBLE);
        }
        int w = ((float[]) found[0]).length;
        float[] all = new float[hashes.length * w];
        for (int i = 0; i < hashes.length; i++) {
            System.arraycopy((float[]) found[i], 0, all, i * w, w);
        }
        return Nd4j.create(all, shape, 'c');
    }

    private void remember(String key, long[] hashes, INDArray out) {
        if (full || out == null || out.size(0) != hashes.length) {
            return;
        }
        long[] perExample = Arrays.copyOfRange(out.shape(), 1, out.rank());
        long[] known = shapes.putIfAbsent(key, perExample);
        if (known != null && !Arrays.equals(known, perExample)) {
            return; // another per-example shape (e.g. another sequence length): not remembered
        }
        boolean dbl = out.dataType() == DataType.DOUBLE;
        INDArray c = dbl ? out.dup('c') : out.castTo(DataType.FLOAT).dup('c');
        int w = (int) (c.length() / hashes.length);
        long add = (long) hashes.length * w * (dbl ? 8 : 4);
        if (bytes + add > maxBytes) {
            full = true;
            LOG.info("MemoizedTeacher: {} bytes remembered, the limit of {} bytes is reached; the teacher runs for "
                    + "the remaining examples", bytes, maxBytes);
            return;
        }
        Map<Long, Object> m = rows.computeIfAbsent(key, k -> new HashMap<>());
        double[] allD = dbl ? c.data().asDouble() : null;
        float[] allF = dbl ? null : c.data().asFloat();
        long added = 0;
        for (int i = 0; i < hashes.length; i++) {
            Object row = dbl ? Arrays.copyOfRange(allD, i * w, (i + 1) * w) : Arrays.copyOfRange(allF, i * w, (i + 1) * w);
            if (m.put(hashes[i], row) == null) {
                added++;
            }
        }
        bytes += added * w * (dbl ? 8 : 4);
    }

    @Override
    public double[] blockWeights() {
        return teacher.blockWeights();
    }

    @Override
    public String describe() {
        return teacher.describe() + " (outputs remembered in memory)";
    }

    @Override
    public String fingerprint() {
        return teacher.fingerprint();
    }
}
