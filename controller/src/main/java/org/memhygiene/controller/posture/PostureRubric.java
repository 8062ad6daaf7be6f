package org.memhygiene.controller.posture;

import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;

/**
 * The scoring rubric of docs/POSTURE.md: a score starts at 100 and loses, per distinct finding id (at
 * that id's worst severity), the severity's weight; the total lost per severity is capped, so many
 * low findings never outweigh one critical one. Deterministic: the same findings give the same score
 * in any order.
 */
public final class PostureRubric {
    /** Points lost per distinct finding id of a severity. */
    static final Map<Severity, Integer> WEIGHT = new EnumMap<>(
            Map.of(Severity.INFO, 0, Severity.LOW, 2, Severity.MEDIUM, 8, Severity.HIGH, 20, Severity.CRITICAL, 40));
    /** The most points all findings of a severity can take together. */
    static final Map<Severity, Integer> CAP = new EnumMap<>(
            Map.of(Severity.INFO, 0, Severity.LOW, 10, Severity.MEDIUM, 32, Severity.HIGH, 60, Severity.CRITICAL, 100));
    /** Worst first; among equals by id, then in the order found (the sort is stable). */
    static final Comparator<Finding> WORST_FIRST =
            Comparator.comparing(Finding::severity).reversed().thenComparing(Finding::id);

    private PostureRubric() {}

    /** 0 to 100: 100 minus the capped deductions of {@code findings}. */
    public static int score(List<Finding> findings) {
        Map<String, Severity> worstById = new HashMap<>();
        for (Finding f : findings) {
            worstById.merge(f.id(), f.severity(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
        }
        Map<Severity, Integer> lost = new EnumMap<>(Severity.class);
        for (Severity s : worstById.values()) {
            lost.merge(s, WEIGHT.get(s), Integer::sum);
        }
        int total = 0;
        for (Map.Entry<Severity, Integer> e : lost.entrySet()) {
            total += Math.min(e.getValue(), CAP.get(e.getKey()));
        }
        return Math.max(0, 100 - total);
    }
}
