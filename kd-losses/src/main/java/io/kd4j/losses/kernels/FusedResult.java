package io.kd4j.losses.kernels;

import java.util.Map;

/**
 * The result of a fused evaluation.
 *
 * @param value the objective's value: the mean of the valid rows' values (0 when there are none)
 * @param rowValues each row's weighted value {@code Σ w·l} (0 for rows that are not valid), or {@code null} when a
 *     term couples the rows (LTKD's rebalancing), as {@link io.kd4j.losses.api.RowsResult#rowValues()}
 * @param validRows the number of valid rows
 * @param terms each term's unweighted mean over the valid rows, by term name
 */
public record FusedResult(double value, double[] rowValues, int validRows, Map<String, Double> terms) {
    public FusedResult {
        terms = Map.copyOf(terms);
    }
}
