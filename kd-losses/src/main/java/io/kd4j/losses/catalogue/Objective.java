package io.kd4j.losses.catalogue;

import io.kd4j.losses.api.DistillationLoss;
import io.kd4j.losses.api.InputKind;
import io.kd4j.losses.api.LogitLoss;
import io.kd4j.losses.api.LogitRows;
import io.kd4j.losses.api.RowsResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A training objective: a weighted sum of named loss terms,
 * {@code L = sum_i weight_i * L_i}, e.g. {@code 0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)}.
 *
 * <p>Its {@link #toString()} is its formula, and {@link #parse} reads that formula back exactly, so
 * an objective travels as one string (DL4J's JSON, recipe files, the command line). The named terms
 * it reports are each term's <em>unweighted</em> value (and that term's own sub-terms, prefixed
 * {@code Name.}), plus nothing else: the total is {@link RowsResult#value()}.
 */
public final class Objective extends LogitLoss {

    /** One weighted term of an objective. */
    public record Term(String name, double weight, LogitLoss loss) {
        public Term {
            Objects.requireNonNull(name, "term name must not be null");
            Objects.requireNonNull(loss, "term loss must not be null");
            if (!Double.isFinite(weight) || weight < 0) {
                throw new IllegalArgumentException("weight of term " + name + " must be finite and >= 0, got " + weight);
            }
        }
    }

    private final List<Term> terms;
    private final Set<InputKind> required;

    private Objective(List<Term> terms) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("an objective needs at least one term");
        }
        this.terms = List.copyOf(terms);
        EnumSet<InputKind> r = EnumSet.of(InputKind.STUDENT_LOGITS);
        for (Term t : terms) {
            r.addAll(t.loss().requiredInputs());
        }
        this.required = Collections.unmodifiableSet(r);
    }

    /** Starts an objective. */
    public static Builder builder() {
        return new Builder();
    }

    /** An objective of one term with weight 1. */
    public static Objective of(DistillationLoss loss) {
        return builder().add(1.0, loss).build();
    }

    /**
     * Parses a formula: terms joined by {@code +}, each {@code [weight*]Name[(key=value, ...)]}, names
     * from {@link LossCatalogue}. Example: {@code 0.1*CrossEntropy + 0.9*SoftTargetKl(temperature=4.0)}.
     */
    public static Objective parse(String formula) {
        Objects.requireNonNull(formula, "objective formula must not be null");
        Builder b = builder();
        for (String part : splitTopLevel(formula)) {
            String term = part.trim();
            if (term.isEmpty()) {
                throw new IllegalArgumentException("objective formula has an empty term: '" + formula + "'");
            }
            double weight = 1.0;
            int star = term.indexOf('*');
            int paren = term.indexOf('(');
            if (star >= 0 && (paren < 0 || star < paren)) {
                String w = term.substring(0, star).trim();
                try {
                    weight = Double.parseDouble(w);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("weight must be a number, got '" + w + "' in term '" + term + "'");
                }
                term = term.substring(star + 1).trim();
                paren = term.indexOf('(');
            }
            String name = paren < 0 ? term : term.substring(0, paren).trim();
            Map<String, String> params = new LinkedHashMap<>();
            if (paren >= 0) {
                if (!term.endsWith(")")) {
                    throw new IllegalArgumentException("term '" + term + "' must end with ')'");
                }
                String inner = term.substring(paren + 1, term.length() - 1).trim();
                if (!inner.isEmpty()) {
                    for (String kv : inner.split(",")) {
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("parameter '" + kv.trim() + "' of term '" + name
                                    + "' must be key=value");
                        }
                        params.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                    }
                }
            }
            b.add(weight, LossCatalogue.create(name, params));
        }
        return b.build();
    }

    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '(') {
                depth++;
            } else if (ch == ')') {
                depth--;
            } else if (ch == '+' && depth == 0 && !isExponentSign(s, i)) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static boolean isExponentSign(String s, int i) {
        // "1e+3*Foo": a '+' right after an 'e' that follows a digit belongs to the number
        return i >= 2 && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E') && Character.isDigit(s.charAt(i - 2));
    }

    /** The terms, in order. */
    public List<Term> terms() {
        return terms;
    }

    @Override
    public String name() {
        return "Objective";
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Term t : terms) {
            m.put(t.name(), t.weight() + "*" + t.loss().describe());
        }
        return m;
    }

    @Override
    public Set<InputKind> requiredInputs() {
        return required;
    }

    @Override
    public RowsResult evaluate(LogitRows rows, double epoch) {
        double[] grad = new double[rows.count() * rows.classes()];
        double[] rowValues = new double[rows.count()];
        boolean rowwise = true;
        double value = 0;
        Map<String, Double> named = new LinkedHashMap<>();
        for (Term t : terms) {
            RowsResult r = t.loss().evaluate(rows, epoch);
            value += t.weight() * r.value();
            named.put(t.name(), r.value());
            r.terms().forEach((k, v) -> named.put(t.name() + "." + k, v));
            double[] g = r.gradient();
            for (int i = 0; i < grad.length; i++) {
                grad[i] += t.weight() * g[i];
            }
            if (r.rowValues() == null) {
                rowwise = false;
            } else if (rowwise) {
                for (int i = 0; i < rowValues.length; i++) {
                    rowValues[i] += t.weight() * r.rowValues()[i];
                }
            }
        }
        return new RowsResult(value, grad, rowwise ? rowValues : null, named);
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Term t : terms) {
            if (b.length() > 0) {
                b.append(" + ");
            }
            b.append(t.weight()).append('*').append(t.loss().describe());
        }
        return b.toString();
    }

    /** Builder of an {@link Objective}. */
    public static final class Builder {
        private final List<Term> terms = new ArrayList<>();

        private Builder() {
        }

        /** Adds a term named after its loss (a repeated name gets a suffix {@code #2}, {@code #3}...). */
        public Builder add(double weight, DistillationLoss loss) {
            Objects.requireNonNull(loss, "loss must not be null");
            if (!(loss instanceof LogitLoss logit)) {
                throw new IllegalArgumentException("objective terms must be logit losses, got " + loss.getClass().getName());
            }
            String base = loss.name();
            String name = base;
            int n = 2;
            while (hasName(name)) {
                name = base + "#" + n++;
            }
            terms.add(new Term(name, weight, logit));
            return this;
        }

        private boolean hasName(String name) {
            return terms.stream().anyMatch(t -> t.name().equals(name));
        }

        public Objective build() {
            return new Objective(terms);
        }
    }
}
