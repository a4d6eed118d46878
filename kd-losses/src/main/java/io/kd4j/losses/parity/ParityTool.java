package io.kd4j.losses.parity;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.LossInput;
import io.kd4j.losses.api.LossResult;
import io.kd4j.losses.api.TopKTeacher;
import io.kd4j.losses.catalogue.LossCatalogue;
import io.kd4j.losses.feature.FeatureInput;
import io.kd4j.losses.feature.FeatureLoss;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * The parity tool: evaluates catalogue losses on cases from a JSON file, in float64, and prints one
 * JSON line per case, so that values, gradients and terms can be compared with a reference
 * implementation (e.g. the paper's PyTorch code) run on the same cases.
 *
 * <p>Input: one JSON array of cases
 * {@code {"loss": name, "params": {...}, "inputs": {"student_logits": [[...]], ...}}}; output per
 * case {@code {"loss": name, "value": v, "gradients": {"student_logits": [[...]]}, "terms": {...}}},
 * or {@code {"loss": name, "error": message}} when the case fails (the tool goes on with the next).
 * Feature losses read {@code student_features}, {@code teacher_features} (rank 2 to 4) and an optional
 * {@code mask} ({@code [batch, time]}), and report {@code "gradients": {"student_features": ...}}; CRD
 * runs with an empty memory (in-batch negatives only).
 * The format and the inputs each loss reads are documented in docs/parity.md.
 */
public final class ParityTool {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS, true);
    private static final Set<String> CASE_KEYS = Set.of("loss", "params", "inputs");
    private static final List<String> INPUT_KEYS = List.of("student_logits", "teacher_logits", "labels", "mask",
            "teacher_topk_indices", "teacher_topk_logprobs", "epoch", "student_features", "teacher_features");

    private ParityTool() {
    }

    /** {@code ParityTool cases.json} (or {@code -} for standard input): one JSON line per case on stdout. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ParityTool <cases.json | ->");
            System.exit(2);
            return;
        }
        try (Reader in = args[0].equals("-") ? new InputStreamReader(System.in, StandardCharsets.UTF_8)
                : Files.newBufferedReader(Path.of(args[0]), StandardCharsets.UTF_8)) {
            run(in, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("ParityTool: " + e.getMessage());
            System.exit(2);
        }
        System.out.flush();
    }

    /**
     * Reads a JSON array of cases from {@code in} and prints one JSON line per case to {@code out}.
     *
     * @throws IllegalArgumentException when the input is not a JSON array (a bad case only gives an error line)
     */
    public static void run(Reader in, PrintStream out) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(in);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the cases file is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException("the cases file must hold a JSON array of cases, got "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        for (JsonNode c : root) {
            out.println(MAPPER.writeValueAsString(runCase(c)));
        }
    }

    /** Evaluates one case; any failure becomes an error object. */
    static ObjectNode runCase(JsonNode c) {
        ObjectNode result = MAPPER.createObjectNode();
        JsonNode nameNode = c == null ? null : c.get("loss");
        if (nameNode != null && nameNode.isTextual()) {
            result.put("loss", nameNode.asText());
        } else {
            result.putNull("loss");
        }
        try {
            if (c == null || !c.isObject()) {
                throw new IllegalArgumentException("a case must be a JSON object");
            }
            checkKeys(c, CASE_KEYS, "case");
            if (nameNode == null || !nameNode.isTextual()) {
                throw new IllegalArgumentException("a case needs \"loss\": the catalogue name as a string");
            }
            DistillationLoss loss = LossCatalogue.create(nameNode.asText(), params(c.get("params")));
            boolean features = loss instanceof FeatureLoss;
            LossResult r = features ? ((FeatureLoss) loss).compute(featureInput(c.get("inputs")))
                    : loss.compute(input(c.get("inputs")));
            result.put("value", r.value());
            ObjectNode gradients = result.putObject("gradients");
            gradients.set(features ? "student_features" : "student_logits", nested(r.studentGradient()));
            ObjectNode terms = result.putObject("terms");
            r.terms().forEach(terms::put);
        } catch (RuntimeException e) {
            ObjectNode error = MAPPER.createObjectNode();
            error.set("loss", result.get("loss"));
            error.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
            return error;
        }
        return result;
    }

    private static void checkKeys(JsonNode obj, java.util.Collection<String> valid, String what) {
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!valid.contains(k)) {
                throw new IllegalArgumentException("unknown " + what + " key '" + k + "'; valid keys: "
                        + new java.util.TreeSet<>(valid));
            }
        }
    }

    /** Parameters: numbers, strings and booleans as text; an array of those joined by ';'. */
    private static Map<String, Object> params(JsonNode p) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (p == null || p.isNull()) {
            return m;
        }
        if (!p.isObject()) {
            throw new IllegalArgumentException("\"params\" must be a JSON object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isArray()) {
                StringBuilder b = new StringBuilder();
                for (JsonNode x : v) {
                    b.append(b.length() > 0 ? ";" : "").append(scalar(x, e.getKey()));
                }
                m.put(e.getKey(), b.toString());
            } else {
                m.put(e.getKey(), scalar(v, e.getKey()));
            }
        }
        return m;
    }

    private static String scalar(JsonNode v, String key) {
        if (v.isNumber() || v.isTextual() || v.isBoolean()) {
            return v.asText();
        }
        throw new IllegalArgumentException("parameter '" + key + "' must be a number, string, boolean or an array "
                + "of those, got " + v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
    }

    /** Inputs of a feature loss: student_features and teacher_features (rank 2 to 4), optional mask [batch, time]. */
    private static FeatureInput featureInput(JsonNode in) {
        if (in == null || !in.isObject()) {
            throw new IllegalArgumentException("a case needs \"inputs\": an object holding student_features and "
                    + "teacher_features");
        }
        checkKeys(in, List.of("student_features", "teacher_features", "mask"), "feature-loss input");
        if (!in.has("student_features") || !in.has("teacher_features")) {
            throw new IllegalArgumentException("a feature loss needs inputs student_features and teacher_features");
        }
        return new FeatureInput(array(in.get("student_features"), "student_features", 2, 4),
                array(in.get("teacher_features"), "teacher_features", 2, 4),
                in.has("mask") ? array(in.get("mask"), "mask", 2, 2) : null);
    }

    private static LossInput input(JsonNode in) {
        if (in == null || !in.isObject()) {
            throw new IllegalArgumentException("a case needs \"inputs\": an object holding at least student_logits");
        }
        checkKeys(in, INPUT_KEYS, "input");
        if (!in.has("student_logits")) {
            throw new IllegalArgumentException("inputs must hold student_logits");
        }
        LossInput.Builder b = LossInput.of(array(in.get("student_logits"), "student_logits", 2, 3));
        if (in.has("teacher_logits")) {
            b.teacherLogits(array(in.get("teacher_logits"), "teacher_logits", 2, 3));
        }
        if (in.has("labels")) {
            b.labels(array(in.get("labels"), "labels", 1, 2));
        }
        if (in.has("mask")) {
            b.mask(array(in.get("mask"), "mask", 1, 2));
        }
        boolean idx = in.has("teacher_topk_indices");
        if (idx != in.has("teacher_topk_logprobs")) {
            throw new IllegalArgumentException("teacher_topk_indices and teacher_topk_logprobs come together; got only "
                    + (idx ? "teacher_topk_indices" : "teacher_topk_logprobs"));
        }
        if (idx) {
            b.teacherTopK(new TopKTeacher(array(in.get("teacher_topk_indices"), "teacher_topk_indices", 2, 3),
                    array(in.get("teacher_topk_logprobs"), "teacher_topk_logprobs", 2, 3)));
        }
        if (in.has("epoch")) {
            JsonNode e = in.get("epoch");
            if (!e.isNumber()) {
                throw new IllegalArgumentException("epoch must be a number, got " + e);
            }
            b.epoch(e.asDouble());
        }
        return b.build();
    }

    /** A rectangular nested array of numbers of rank in [minRank, maxRank] as a float64 INDArray. */
    static INDArray array(JsonNode node, String name, int minRank, int maxRank) {
        List<Integer> shape = new ArrayList<>();
        for (JsonNode n = node; n != null && n.isArray(); n = n.size() > 0 ? n.get(0) : null) {
            shape.add(n.size());
        }
        String ranks = minRank == maxRank ? String.valueOf(minRank) : minRank == maxRank - 1 ? minRank + " or " + maxRank
                : "in [" + minRank + ", " + maxRank + "]";
        if (shape.size() < minRank || shape.size() > maxRank) {
            throw new IllegalArgumentException(name + " must be a nested array of rank " + ranks + ", got rank "
                    + shape.size());
        }
        long total = 1;
        for (int d : shape) {
            if (d == 0) {
                throw new IllegalArgumentException(name + " must not have an empty dimension, got shape " + shape);
            }
            total *= d;
        }
        double[] flat = new double[(int) total];
        int[] pos = {0};
        fill(node, 0, shape, flat, pos, name);
        long[] dims = shape.stream().mapToLong(Integer::longValue).toArray();
        return Nd4j.create(flat, dims, DataType.DOUBLE);
    }

    private static void fill(JsonNode n, int depth, List<Integer> shape, double[] flat, int[] pos, String name) {
        if (depth == shape.size()) {
            if (!n.isNumber() && !(n.isTextual() && isNonFinite(n.asText()))) {
                throw new IllegalArgumentException(name + " must hold numbers only, got " + n);
            }
            flat[pos[0]++] = n.isNumber() ? n.asDouble() : Double.parseDouble(n.asText());
            return;
        }
        if (!n.isArray() || n.size() != shape.get(depth)) {
            throw new IllegalArgumentException(name + " must be a rectangular nested array of shape " + shape
                    + "; found " + (n.isArray() ? "a row of length " + n.size() : n.toString()) + " at depth " + depth);
        }
        for (JsonNode x : n) {
            fill(x, depth + 1, shape, flat, pos, name);
        }
    }

    private static boolean isNonFinite(String s) {
        return s.equals("NaN") || s.equals("Infinity") || s.equals("-Infinity");
    }

    /** An INDArray as nested JSON arrays of float64 values. */
    static JsonNode nested(INDArray a) {
        double[] flat = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        long[] shape = a.shape();
        int[] pos = {0};
        return nest(flat, shape, 0, pos);
    }

    private static JsonNode nest(double[] flat, long[] shape, int depth, int[] pos) {
        ArrayNode arr = MAPPER.createArrayNode();
        for (long i = 0; i < shape[depth]; i++) {
            if (depth == shape.length - 1) {
                arr.add(flat[pos[0]++]);
            } else {
                arr.add(nest(flat, shape, depth + 1, pos));
            }
        }
        return arr;
    }
}
