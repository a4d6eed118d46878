package io.kd4j.losses.kernels;

import io.kd4j.losses.catalogue.Objective;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Teacher and student rows that lie thousands of logits apart. A softmax does not see a row's offset, so
 * KL-type values depend only on each row's logits relative to its own shift; but {@code Σ p (t - s)}, the
 * sum these values are built from, is about {@code (t - s)} times {@code Σ p}, and the offsets cancel only
 * after it. Added up in float lanes as it is, it keeps about 7 significant digits of a number near the
 * offset: at 7,500 apart about 5e-4 of absolute error, where KL between rows of spread 2 is about 1 to 4
 * (docs/performance-log.md, "Kernel CPU time", tenth round). The kernels now add up
 * {@code p ((t - r_t) - (s - r_s))}, the logits relative to reference values near them (the load pass's
 * guesses, or each row's largest of its first 16 values), and add {@code (r_t - r_s) Σ p} in double.
 * Reverse KL's gradient, {@code q ((s - t)/T + lseT - lseS - KL)}, has the same cancellation in float and is
 * taken relative to the references too.
 *
 * <p>The student rows are at {@code +offset (1 + i/7)} and the teacher rows at {@code -offset/2 (1 + i/7)}
 * (row {@code i}), with Gaussian noise of the given spread; with {@code shifted} the teacher's noise is the
 * student's, so the two rows differ by a constant (after float rounding, by up to half a float ulp of the
 * offset per class) and KL is near 0: there the float error is all of the value. Checked against the double
 * reference in the three executions (the scalar kernel, the vector kernel, the vector kernel on copied
 * rows).
 */
class FarApartRowsTest {
    private static final int ROWS = 12;

    @ParameterizedTest(name = "{0}, {1} classes, offset {2}, spread {3}, shifted {4}")
    @CsvSource({
        "'SoftTargetKl(temperature=1.0)', 2061, 5000, 2, false",
        "'SoftTargetKl(temperature=4.0)', 2061, 3000, 2, true",
        "'SoftTargetKl(temperature=2.0)', 37, -8000, 1, false",
        "'0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)', 2061, 6000, 3, false",
        "'0.1*CrossEntropy(labelSmoothing=0.1) + 0.9*SoftTargetKl(temperature=1.0)', 1030, 4000, 2, true",
        "'ReverseKl(temperature=2.0)', 2061, 5000, 2, false",
        "'ReverseKl(temperature=1.0)', 2061, -4000, 2, true",
        "'0.5*ReverseKl + 0.5*CrossEntropy + SoftTargetKl(temperature=2.0)', 1030, 5000, 2, false",
        "'GeneralizedJsd(teacherMixWeight=1.0, temperature=2.0)', 2061, 5000, 2, false",
        "'GeneralizedJsd(teacherMixWeight=0.3, temperature=2.0)', 2061, 5000, 2, true",
        "'Dkd(temperature=4.0, warmupEpochs=1.0)', 2061, 5000, 2, false",
        "'0.5*CrossEntropy + Dkd(temperature=1.0, nonTargetWeight=2.0, warmupEpochs=1.0)', 2061, -6000, 2, true",
        "'Ltkd(temperature=2.0, classGroups={g})', 2061, 5000, 2, false",
        "'Ltkd(temperature=4.0, classGroups={r})', 2061, 5000, 2, true"})
    void givenRowsThousandsApart_whenFused_thenTheValueAndGradientMatchTheReference(String formula, int classes,
            double offset, double spread, boolean shifted) {
        // Given student rows at +offset and teacher rows at -offset/2 (row i: times 1 + i/7), either with noise
        // of their own or with the student's noise (rows that differ by a constant)
        double[][] st = ReferenceCheck.offsetRows(new Random(formula.hashCode() + classes), ROWS, classes, offset,
                spread, shifted);
        double[] s = st[0];
        double[] t = st[1];
        int[] labels = ReferenceCheck.spreadLabels(ROWS, classes);
        Objective objective = Objective.parse(formula.replace("{g}", FusedDecoupledTest.groups(classes, true))
                .replace("{r}", FusedDecoupledTest.ranges(classes)));

        // When fused on float32 arrays, Then the value, the terms and every row's gradient equal the double
        // reference
        ReferenceCheck.assertFloat32MatchesReference(objective, s, t, labels, ROWS, classes);
    }
}
