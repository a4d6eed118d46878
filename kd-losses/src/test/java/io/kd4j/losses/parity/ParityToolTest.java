package io.kd4j.losses.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kd4j.losses.testing.Reference;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

class ParityToolTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<JsonNode> run(String cases) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ParityTool.run(new StringReader(cases), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    @Test
    void givenMixedCases_whenRun_thenOneLinePerCaseWithValuesOrErrors() throws IOException {
        String cases = """
            [
              {"loss": "SoftTargetKl", "params": {"temperature": 2},
               "inputs": {"student_logits": [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]],
                          "teacher_logits": [[1.5, 0.0, -1.0], [0.2, 0.3, 0.1]]}},
              {"loss": "NoSuchLoss", "inputs": {"student_logits": [[0, 1]]}},
              {"loss": "SoftTargetKl", "params": {"temperature": -1},
               "inputs": {"student_logits": [[0, 1]], "teacher_logits": [[0, 1]]}},
              {"loss": "SoftTargetKl",
               "inputs": {"student_logits": [[0, 1]], "teacher_logits": [[0, 1, 2]]}},
              {"loss": "RegressionKd",
               "inputs": {"student_logits": [[[1, 2], [3, 4]]], "teacher_logits": [[[0, 2], [3, 6]]],
                          "mask": [[1, 0]]}},
              {"loss": "CrossEntropy", "inputs": {"student_logits": [[0, 0, 0]], "labels": [3]}},
              {"loss": "RegressionKd", "inputs": {"student_logits": [[0, 1], [2]], "teacher_logits": [[0, 1], [2, 3]]}},
              {"loss": "RegressionKd", "inputs": {"student_logits": [[NaN, 1]], "teacher_logits": [[0, 1]]}},
              {"loss": "Ltkd", "params": {"classCounts": [500, 50, 5], "rebalance": false, "reweight": false,
                                          "temperature": 1.0},
               "inputs": {"student_logits": [[0, 0, 0]], "teacher_logits": [[0.6931471805599453, 0, 0]], "epoch": 3}}
            ]
            """;
        List<JsonNode> out = run(cases);
        assertEquals(9, out.size());

        // 1: SoftTargetKl at T = 2, checked against plain softmax/KL arithmetic
        double[][] s = {{0.5, -1.0, 2.0}, {1.0, 0.0, -0.5}};
        double[][] t = {{1.5, 0.0, -1.0}, {0.2, 0.3, 0.1}};
        double expected = 0;
        for (int i = 0; i < 2; i++) {
            expected += Reference.kl(Reference.softmax(t[i], 2), Reference.softmax(s[i], 2));
        }
        expected = expected / 2 * 4;
        JsonNode good = out.get(0);
        assertEquals("SoftTargetKl", good.get("loss").asText());
        assertEquals(expected, good.get("value").asDouble(), 1e-12);
        JsonNode grad = good.get("gradients").get("student_logits");
        for (int i = 0; i < 2; i++) {
            double[] p = Reference.softmax(t[i], 2);
            double[] q = Reference.softmax(s[i], 2);
            for (int c = 0; c < 3; c++) {
                assertEquals(2 * (q[c] - p[c]) / 2, grad.get(i).get(c).asDouble(), 1e-12); // T (q - p) / n
            }
        }
        assertTrue(good.get("terms").isObject());
        assertFalse(good.has("error"));

        // 2-4: errors, and the tool went on
        assertEquals("NoSuchLoss", out.get(1).get("loss").asText());
        assertTrue(out.get(1).get("error").asText().startsWith("unknown loss 'NoSuchLoss'; valid names: ["),
                out.get(1).toString());
        assertEquals("temperature must be > 0 and finite, got -1.0", out.get(2).get("error").asText());
        assertTrue(out.get(3).get("error").asText().contains("teacher_logits shape [1, 3] must equal student_logits "
                + "shape [1, 2]"), out.get(3).toString());

        // 5: rank-3 input [1, 2, 2] with position t=1 masked: only t=0 counts: s=(1,3), t=(0,3): (1 + 0) / 2
        JsonNode reg = out.get(4);
        assertEquals(0.5, reg.get("value").asDouble(), 1e-15);
        // gradient [batch=1][classes=2][time=2]: 2 (s - t) / (n C) at t=0 -> [1, 0]; masked t=1 -> 0
        assertEquals(JSON.readTree("[[[1.0, 0.0], [0.0, 0.0]]]"), reg.get("gradients").get("student_logits"));

        assertTrue(out.get(5).get("error").asText().contains("labels must be class indices in [0, 3), got 3.0"),
                out.get(5).toString());
        assertTrue(out.get(6).get("error").asText().startsWith("student_logits must be a rectangular nested array"),
                out.get(6).toString());
        assertTrue(out.get(7).get("error").asText().contains("student_logits must be finite, got NaN"),
                out.get(7).toString());

        // 9: Ltkd without corrections at T = 1 is plain KD: teacher [ln 2, 0, 0] -> p = [1/2, 1/4, 1/4], q uniform
        // KL = 1/2 ln(3/2) + 2 * 1/4 ln(3/4) = 0.2027326 - 0.1438410 = 0.0588915
        JsonNode ltkd = out.get(8);
        assertEquals(0.5 * Math.log(1.5) + 0.5 * Math.log(0.75), ltkd.get("value").asDouble(), 1e-12);
        assertEquals(ltkd.get("value").asDouble(), ltkd.get("terms").get("crossGroup").asDouble()
                + ltkd.get("terms").get("withinGroup").asDouble(), 1e-12);
    }

    @Test
    void givenMalformedCases_whenRun_thenErrorLinesNameTheProblem() throws IOException {
        List<JsonNode> out = run("""
            [ 3,
              {"params": {}, "inputs": {"student_logits": [[0, 1]]}},
              {"loss": "RegressionKd", "input": {}},
              {"loss": "RegressionKd", "inputs": {"student_logits": [0, 1], "teacher_logits": [0, 1]}},
              {"loss": "RegressionKd", "inputs": {"student_logits": [[0, 1]], "teacher_logit": [[0, 1]]}},
              {"loss": "SoftTargetKl", "params": {"temperature": {"x": 1}},
               "inputs": {"student_logits": [[0, 1]], "teacher_logits": [[0, 1]]}}
            ]
            """);
        assertEquals(6, out.size());
        assertEquals("a case must be a JSON object", out.get(0).get("error").asText());
        assertTrue(out.get(0).get("loss").isNull());
        assertEquals("a case needs \"loss\": the catalogue name as a string", out.get(1).get("error").asText());
        assertEquals("unknown case key 'input'; valid keys: [inputs, loss, params]", out.get(2).get("error").asText());
        assertEquals("student_logits must be a nested array of rank 2 or 3, got rank 1", out.get(3).get("error").asText());
        assertTrue(out.get(4).get("error").asText().startsWith("unknown input key 'teacher_logit'"), out.get(4).toString());
        assertEquals("parameter 'temperature' must be a number, string, boolean or an array of those, got object",
                out.get(5).get("error").asText());
    }

    @Test
    void givenFeatureLossCases_whenRun_thenStudentFeatureGradientsOrErrors() throws IOException {
        List<JsonNode> out = run("""
            [
              {"loss": "FitNetsHint", "inputs": {"student_features": [[1, 2], [3, 4]],
                                                 "teacher_features": [[0, 2], [3, 6]]}},
              {"loss": "TinyBertHiddenMse", "inputs": {"student_features": [[[3, 100], [1, -100]]],
                                                       "teacher_features": [[[0, 0], [0, 0]]], "mask": [[1, 0]]}},
              {"loss": "AttentionTransfer", "params": {"p": 2},
               "inputs": {"student_features": [[[[2, 0]], [[0, 0]]]], "teacher_features": [[[[1, 1]]]]}},
              {"loss": "FitNetsHint", "inputs": {"student_logits": [[1, 2]], "teacher_logits": [[1, 2]]}},
              {"loss": "SoftTargetKl", "inputs": {"student_features": [[1, 2]], "teacher_features": [[1, 2]]}}
            ]
            """);
        assertEquals(5, out.size());
        // diffs [1, 0, 0, -2]: MSE 5/4; gradient 2 d / 4
        assertEquals(1.25, out.get(0).get("value").asDouble(), 1e-15);
        assertEquals(JSON.readTree("[[0.5, 0.0], [0.0, -1.0]]"), out.get(0).get("gradients").get("student_features"));
        // [1, size 2, time 2], t=1 masked: (9 + 1) / 2 = 5; gradient 2 d / 2 at t=0
        assertEquals(5.0, out.get(1).get("value").asDouble(), 1e-15);
        assertEquals(JSON.readTree("[[[3.0, 0.0], [1.0, 0.0]]]"), out.get(1).get("gradients").get("student_features"));
        // AT hand value 1 - 1/sqrt2 (see AttentionTransferTest)
        assertEquals(1 - 1 / Math.sqrt(2), out.get(2).get("value").asDouble(), 1e-15);
        assertEquals("unknown feature-loss input key 'student_logits'; valid keys: [mask, student_features, "
                + "teacher_features]", out.get(3).get("error").asText());
        assertEquals("inputs must hold student_logits", out.get(4).get("error").asText());
    }

    @Test
    void givenInputThatIsNotAnArray_whenRun_thenRejectedAsAWhole() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run("{\"loss\": \"SoftTargetKl\"}"));
        assertEquals("the cases file must hold a JSON array of cases, got object", e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> run("[{"));
        assertTrue(e2.getMessage().startsWith("the cases file is not valid JSON"), e2.getMessage());
    }
}
