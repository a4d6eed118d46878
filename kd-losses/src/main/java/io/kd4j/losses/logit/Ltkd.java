package io.kd4j.losses.logit;

import io.kd4j.losses.api.Checks;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.api.LogitMath;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.LossParams;
import io.kd4j.losses.api.RowsResult;
import io.kd4j.losses.api.TemperatureSchedule;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Long-Tailed Knowledge Distillation (LTKD), from S. Kim, "Distilling Balanced Knowledge from a
 * Biased Teacher", CVPR 2026 (arXiv 2506.18496; v1 titled "Biased Teacher, Balanced Student").
 *
 * <p>Classes fall into groups {@code g} (head, medium, tail). With {@code p = softmax(t/T)},
 * {@code q = softmax(s/T)}, group masses {@code P_g = sum_{c in g} p_c}, {@code Q_g} likewise, and
 * within-group distributions {@code p|g = p_c / P_g}, {@code q|g = q_c / Q_g}, the forward KL splits
 * exactly into {@code KL(p||q) = KL(P||Q) + sum_g P_g KL(p|g || q|g)}. LTKD corrects both parts:
 * <pre>
 *   rebalanced cross-group target (batch statistics over the valid rows i = 1..n):
 *     Pbar_g = mean_i P_ig,  w_g = (1/G) / Pbar_g,  P^_ig = w_g P_ig / sum_h w_h P_ih
 *   L_i = T² [ crossGroupWeight · KL(P^_i || Q_i) + withinGroupWeight · sum_g v_ig KL(p_i|g || q_i|g) ]
 *     with v_ig = 1 (reweighted: every group counts the same) or v_ig = P_ig (reweight = false)
 *   L   = mean_i L_i
 *   dL/ds_ic = (T/n) [ crossGroupWeight (Q_ig - P^_ig) q_i|g,c + withinGroupWeight v_ig (q_i|g,c - p_i|g,c) ],  g = group(c)
 * </pre>
 * {@code G} is the number of non-empty groups. With {@code rebalance=false} ({@code P^ = P}),
 * {@code reweight=false} and both weights 1, {@code L} equals {@link SoftTargetKl} exactly. The
 * rebalancing factors depend only on the teacher (no gradient flows through them) but couple the rows
 * of a batch, so this is a batch-level loss (no per-row values while rebalancing).
 *
 * <p>Reference code: none is public. Our reading of the paper (see docs/losses.md, "LTKD, multi-label KD, regression KD"): the
 * teacher's per-batch mean group masses are scaled to the uniform distribution over groups and each
 * row's scaled masses renormalised ({@code alpha} in the paper weights this cross-group term); the
 * teacher weights {@code P_g} of the within-group KLs are replaced by a constant, 1 here ({@code beta}
 * weights this term). Convention as mdistiller KD: forward KL(teacher || student), softmax at
 * temperature {@code T}, batch mean, {@code x T²} after the mean, no epsilon (all in log space).
 *
 * <p>Groups come either from training-set class counts ({@code classCounts}, one integer &gt;= 0 per
 * class) split by thresholds ({@code grouping=thresholds}, default: count &gt; {@code manyShotMin} is
 * head, count &lt; {@code fewShotMax} is tail, the rest medium, the usual many/medium/few-shot split),
 * or by rank as in the paper ({@code grouping=thirds}: the floor(C/3) most frequent classes are head,
 * the floor(C/3) least frequent tail, ties by class index); or from an explicit group per class
 * ({@code classGroups}, e.g. {@code head;medium;tail}). An empty group is allowed: it is left out of
 * both terms and of {@code G}.
 *
 * <p>Catalogue name {@code Ltkd}; parameters (defaults): {@code temperature} &gt; 0 (4.0) and the
 * schedule keys of {@link TemperatureSchedule}; {@code crossGroupWeight} &gt;= 0 (1.0, the paper's
 * alpha); {@code withinGroupWeight} &gt;= 0 (1.0, the paper's beta); {@code rebalance} (true);
 * {@code reweight} (true); {@code classCounts} or {@code classGroups} (one of them required);
 * {@code grouping} thresholds|thirds (thresholds); {@code manyShotMin} &gt;= 0 (100);
 * {@code fewShotMax} in [0, manyShotMin] (20). Inputs: {@code student_logits}, {@code teacher_logits}.
 * Named terms: {@code crossGroup}, {@code withinGroup} (sum to the value) and the within-group parts
 * {@code withinHead}, {@code withinMedium}, {@code withinTail}.
 */
public final class Ltkd extends LogitLoss {

    /** A class group. */
    public enum Group { HEAD, MEDIUM, TAIL }

    private static final String[] TERM_NAMES = {"withinHead", "withinMedium", "withinTail"};

    private final TemperatureSchedule temperature;
    private final Group[] groups;
    private final int[][] members;
    private final double crossGroupWeight;
    private final double withinGroupWeight;
    private final boolean rebalance;
    private final boolean reweight;
    /** How the groups were given, for describe(): counts (with grouping and thresholds) or null. */
    private final long[] classCounts;
    private final String grouping;
    private final int manyShotMin;
    private final int fewShotMax;

    /**
     * LTKD with an explicit group per class.
     *
     * @param groups the group of each class, length = number of classes
     */
    public Ltkd(TemperatureSchedule temperature, Group[] groups, double crossGroupWeight, double withinGroupWeight,
                boolean rebalance, boolean reweight) {
        this(temperature, groups, crossGroupWeight, withinGroupWeight, rebalance, reweight, null, "thresholds", 100, 20);
    }

    private Ltkd(TemperatureSchedule temperature, Group[] groups, double crossGroupWeight, double withinGroupWeight,
                 boolean rebalance, boolean reweight, long[] classCounts, String grouping, int manyShotMin,
                 int fewShotMax) {
        this.temperature = Objects.requireNonNull(temperature, "temperature must not be null");
        Objects.requireNonNull(groups, "groups must not be null");
        if (groups.length == 0) {
            throw new IllegalArgumentException("groups must name the group of at least one class");
        }
        this.groups = groups.clone();
        this.members = new int[3][];
        for (int c = 0; c < groups.length; c++) {
            Objects.requireNonNull(groups[c], "group of class " + c + " must not be null");
        }
        for (Group g : Group.values()) {
            members[g.ordinal()] = java.util.stream.IntStream.range(0, groups.length).filter(c -> groups[c] == g).toArray();
        }
        this.crossGroupWeight = Checks.nonNegative("crossGroupWeight", crossGroupWeight);
        this.withinGroupWeight = Checks.nonNegative("withinGroupWeight", withinGroupWeight);
        this.rebalance = rebalance;
        this.reweight = reweight;
        this.classCounts = classCounts == null ? null : classCounts.clone();
        this.grouping = grouping;
        this.manyShotMin = manyShotMin;
        this.fewShotMax = fewShotMax;
    }

    /** LTKD with groups from training-set class counts split by the many/few-shot thresholds. */
    public static Ltkd fromClassCounts(TemperatureSchedule temperature, long[] classCounts, int manyShotMin,
                                       int fewShotMax, double crossGroupWeight, double withinGroupWeight,
                                       boolean rebalance, boolean reweight) {
        return new Ltkd(temperature, groupsByThresholds(classCounts, manyShotMin, fewShotMax), crossGroupWeight,
                withinGroupWeight, rebalance, reweight, classCounts, "thresholds", manyShotMin, fewShotMax);
    }

    /** Groups by thresholds: count &gt; manyShotMin is head, count &lt; fewShotMax is tail, else medium. */
    public static Group[] groupsByThresholds(long[] classCounts, int manyShotMin, int fewShotMax) {
        checkThresholds(manyShotMin, fewShotMax);
        checkCounts(classCounts);
        Group[] g = new Group[classCounts.length];
        for (int c = 0; c < g.length; c++) {
            long n = classCounts[c];
            g[c] = n > manyShotMin ? Group.HEAD : n < fewShotMax ? Group.TAIL : Group.MEDIUM;
        }
        return g;
    }

    /** Groups by rank as in the paper: floor(C/3) most frequent head, floor(C/3) least frequent tail. */
    public static Group[] groupsByThirds(long[] classCounts) {
        checkCounts(classCounts);
        int c = classCounts.length;
        Integer[] order = new Integer[c];
        for (int i = 0; i < c; i++) {
            order[i] = i;
        }
        // descending count, ties by class index (stable)
        java.util.Arrays.sort(order, (a, b) -> Long.compare(classCounts[b], classCounts[a]));
        Group[] g = new Group[c];
        int third = c / 3;
        for (int r = 0; r < c; r++) {
            g[order[r]] = r < third ? Group.HEAD : r >= c - third ? Group.TAIL : Group.MEDIUM;
        }
        return g;
    }

    private static void checkThresholds(int manyShotMin, int fewShotMax) {
        if (manyShotMin < 0) {
            throw new IllegalArgumentException("manyShotMin must be >= 0, got " + manyShotMin);
        }
        if (fewShotMax < 0) {
            throw new IllegalArgumentException("fewShotMax must be >= 0, got " + fewShotMax);
        }
        if (fewShotMax > manyShotMin) {
            throw new IllegalArgumentException("fewShotMax must be <= manyShotMin, got fewShotMax=" + fewShotMax
                    + " and manyShotMin=" + manyShotMin);
        }
    }

    private static void checkCounts(long[] classCounts) {
        Objects.requireNonNull(classCounts, "classCounts must not be null");
        if (classCounts.length == 0) {
            throw new IllegalArgumentException("classCounts must have one entry per class, got none");
        }
        for (int c = 0; c < classCounts.length; c++) {
            if (classCounts[c] < 0) {
                throw new IllegalArgumentException("classCounts must be >= 0, got " + classCounts[c] + " at class " + c);
            }
        }
    }

    public static Ltkd fromParams(LossParams p) {
        TemperatureSchedule t = TemperatureSchedule.fromParams(p, 4.0);
        double cross = p.real("crossGroupWeight", 1.0);
        double within = p.real("withinGroupWeight", 1.0);
        boolean rebalance = p.flag("rebalance", true);
        boolean reweight = p.flag("reweight", true);
        String counts = p.text("classCounts", null);
        String groupNames = p.text("classGroups", null);
        String grouping = p.text("grouping", "thresholds").trim();
        int many = p.integer("manyShotMin", 100);
        int few = p.integer("fewShotMax", 20);
        checkThresholds(many, few);
        if (!grouping.equals("thresholds") && !grouping.equals("thirds")) {
            throw new IllegalArgumentException("grouping must be one of [thresholds, thirds], got '" + grouping + "'");
        }
        if ((counts == null) == (groupNames == null)) {
            throw new IllegalArgumentException("Ltkd: give exactly one of classCounts (training-set examples per "
                    + "class, e.g. 500;120;7) or classGroups (e.g. head;medium;tail)"
                    + (counts != null ? ", got both" : ", got neither"));
        }
        if (groupNames != null) {
            return new Ltkd(t, parseGroups(groupNames), cross, within, rebalance, reweight);
        }
        long[] c = parseCounts(counts);
        Group[] g = grouping.equals("thirds") ? groupsByThirds(c) : groupsByThresholds(c, many, few);
        return new Ltkd(t, g, cross, within, rebalance, reweight, c, grouping, many, few);
    }

    private static long[] parseCounts(String text) {
        String[] parts = text.split(";", -1);
        long[] c = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                c[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("classCounts must be semicolon-separated integers, got '" + text
                        + "' (entry " + i + ": '" + parts[i] + "')");
            }
        }
        return c;
    }

    private static Group[] parseGroups(String text) {
        String[] parts = text.split(";", -1);
        Group[] g = new Group[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                g[i] = Group.valueOf(parts[i].trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("classGroups must be semicolon-separated head, medium or tail, got '"
                        + parts[i] + "' at class " + i);
            }
        }
        return g;
    }

    /** The group of each class. */
    public Group[] groups() {
        return groups.clone();
    }

    /** The temperature schedule (read by the fused kernels of {@code io.kd4j.losses.kernels}). */
    public TemperatureSchedule temperature() {
        return temperature;
    }

    /** alpha, the weight of the cross-group KL. */
    public double crossGroupWeight() {
        return crossGroupWeight;
    }

    /** beta, the weight of the within-group KLs. */
    public double withinGroupWeight() {
        return withinGroupWeight;
    }

    /** Whether the teacher's group masses are rebalanced with batch statistics (which couples the rows). */
    public boolean rebalance() {
        return rebalance;
    }

    /** Whether every group's within-group KL counts the same (else weighted by the teacher's group mass). */
    public boolean reweight() {
        return reweight;
    }

    /**
     * Rejects logits whose class count differs from the number of class groups, naming the parameter
     * the groups came from ({@code classCounts} or {@code classGroups}).
     */
    public void checkClasses(int classes) {
        if (classes != groups.length) {
            throw new IllegalArgumentException(name() + ": " + (classCounts != null ? "classCounts" : "classGroups")
                    + " has " + groups.length + " entries but the logits have " + classes + " classes");
        }
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        int n = rows.count();
        int c = rows.classes();
        checkClasses(c);
        double tau = temperature.at(epoch);
        double[] s = rows.student();
        double[] t = rows.teacher();
        double[] logT = new double[c];
        double[] logS = new double[c];
        // pass 1: the teacher's log group masses per row, and the rebalancing log-factors
        double[] logP = new double[n * 3];
        double[] logW = new double[3];
        int nonEmpty = 0;
        for (int[] m : members) {
            nonEmpty += m.length > 0 ? 1 : 0;
        }
        for (int i = 0; i < n; i++) {
            LogitMath.logSoftmax(t, i * c, c, tau, logT, 0);
            for (int g = 0; g < 3; g++) {
                logP[i * 3 + g] = logSumExp(logT, members[g]);
            }
        }
        for (int g = 0; g < 3; g++) {
            double[] col = new double[n];
            for (int i = 0; i < n; i++) {
                col[i] = logP[i * 3 + g];
            }
            // log Pbar_g = log mean_i P_ig; w_g = (1/G) / Pbar_g
            logW[g] = members[g].length == 0 || n == 0 ? 0.0
                    : -Math.log(nonEmpty) - (LogitMath.logSumExp(col, 0, n, 1.0) - Math.log(n));
        }
        // pass 2: value and gradient per row
        double[] grad = new double[n * c];
        double[] values = new double[n];
        double cross = 0;
        double[] within = new double[3];
        double[] logPhat = new double[3];
        double[] logQ = new double[3];
        for (int i = 0; i < n; i++) {
            int off = i * c;
            LogitMath.logSoftmax(t, off, c, tau, logT, 0);
            LogitMath.logSoftmax(s, off, c, tau, logS, 0);
            double norm = Double.NEGATIVE_INFINITY;
            for (int g = 0; g < 3; g++) {
                logQ[g] = logSumExp(logS, members[g]);
                logPhat[g] = members[g].length == 0 ? Double.NEGATIVE_INFINITY
                        : logP[i * 3 + g] + (rebalance ? logW[g] : 0.0);
                norm = LogitMath.logAddExp(norm, logPhat[g]);
            }
            double rowCross = 0;
            double rowValue = 0;
            for (int g = 0; g < 3; g++) {
                if (members[g].length == 0) {
                    continue;
                }
                logPhat[g] -= norm;
                double pHat = Math.exp(logPhat[g]);
                rowCross += pHat * (logPhat[g] - logQ[g]);
                double v = reweight ? 1.0 : Math.exp(logP[i * 3 + g]);
                double kl = 0;
                double crossCoef = Math.exp(logQ[g]) - pHat;
                for (int k : members[g]) {
                    double lp = logT[k] - logP[i * 3 + g];
                    double lq = logS[k] - logQ[g];
                    double pk = Math.exp(lp);
                    double qk = Math.exp(lq);
                    kl += pk * (lp - lq);
                    grad[off + k] = tau * (crossGroupWeight * crossCoef * qk + withinGroupWeight * v * (qk - pk));
                }
                double part = tau * tau * withinGroupWeight * v * kl;
                within[g] += part;
                rowValue += part;
            }
            rowCross *= tau * tau * crossGroupWeight;
            cross += rowCross;
            values[i] = rowValue + rowCross;
        }
        Map<String, Double> terms = new LinkedHashMap<>();
        double inv = n == 0 ? 0.0 : 1.0 / n;
        for (int j = 0; j < grad.length; j++) {
            grad[j] *= inv;
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        terms.put("crossGroup", cross * inv);
        terms.put("withinGroup", (within[0] + within[1] + within[2]) * inv);
        for (int g = 0; g < 3; g++) {
            terms.put(TERM_NAMES[g], within[g] * inv);
        }
        return new RowsResult(sum * inv, grad, rebalance ? null : values, terms);
    }

    /** log sum_{k in idx} exp(x[k]); -infinity for an empty index set. */
    private static double logSumExp(double[] x, int[] idx) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k : idx) {
            max = Math.max(max, x[k]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (int k : idx) {
            sum += Math.exp(x[k] - max);
        }
        return max + Math.log(sum);
    }

    @Override
    public String name() {
        return "Ltkd";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>(temperature.asParams());
        m.put("crossGroupWeight", crossGroupWeight);
        m.put("withinGroupWeight", withinGroupWeight);
        m.put("rebalance", rebalance);
        m.put("reweight", reweight);
        StringBuilder b = new StringBuilder();
        if (classCounts != null) {
            for (long count : classCounts) {
                b.append(b.length() > 0 ? ";" : "").append(count);
            }
            m.put("classCounts", b.toString());
            m.put("grouping", grouping);
            if (grouping.equals("thresholds")) {
                m.put("manyShotMin", manyShotMin);
                m.put("fewShotMax", fewShotMax);
            }
        } else {
            for (Group g : groups) {
                b.append(b.length() > 0 ? ";" : "").append(g.name().toLowerCase(java.util.Locale.ROOT));
            }
            m.put("classGroups", b.toString());
        }
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return EnumSet.of(InputKind.STUDENT_LOGITS, InputKind.TEACHER_LOGITS);
    }
}
