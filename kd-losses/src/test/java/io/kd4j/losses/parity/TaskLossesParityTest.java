package io.kd4j.losses.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** The ranking and Gaussian losses through the parity tool, with the input layouts of docs/parity.md. */
class TaskLossesParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void givenRankingAndGaussianCases_whenRun_thenHandValuesAndLayoutErrors() throws IOException {
        String cases = """
            [
              {"loss": "MarginMse", "inputs": {"student_logits": [[3, 1, 0]], "teacher_logits": [[2, 1, 1]]}},
              {"loss": "ListwiseKl", "inputs": {"student_logits": [[0, 0]], "teacher_logits": [[1.0986122886681098, 0]]}},
              {"loss": "GaussianNll", "params": {"full": false},
               "inputs": {"student_logits": [[1, 0]], "teacher_logits": [[3, 2]]}},
              {"loss": "GaussianKl", "inputs": {"student_logits": [[1, 0]], "teacher_logits": [[3, 2]]}},
              {"loss": "GaussianKl", "inputs": {"student_logits": [[1, 0, 0]], "teacher_logits": [[3, 2, 1]]}}
            ]""";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ParityTool.run(new StringReader(cases), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<JsonNode> out = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            out.add(JSON.readTree(line));
        }
        assertEquals(5, out.size());
        // MarginMse: d = [1, 2], (1 + 4) / 2 = 2.5, gradient [3, -1, -2]
        assertEquals(2.5, out.get(0).get("value").asDouble(), 1e-12);
        assertEquals(3.0, out.get(0).get("gradients").get("student_logits").get(0).get(0).asDouble(), 1e-12);
        // ListwiseKl at T = 1: 3/4 ln(3/2) + 1/4 ln(1/2)
        assertEquals(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), out.get(1).get("value").asDouble(), 1e-12);
        // GaussianNll: 0.5 (0 + 2 + 4) = 3; GaussianKl: 3 - 0.5 (ln 2 + 1) = 2.5 - 0.5 ln 2
        assertEquals(3.0, out.get(2).get("value").asDouble(), 1e-12);
        assertEquals(-2.5, out.get(2).get("gradients").get("student_logits").get(0).get(1).asDouble(), 1e-12);
        assertEquals(2.5 - 0.5 * Math.log(2), out.get(3).get("value").asDouble(), 1e-12);
        assertTrue(out.get(4).get("error").asText().contains("an even number of columns >= 2, got 3"), out.get(4).toString());
    }
}
