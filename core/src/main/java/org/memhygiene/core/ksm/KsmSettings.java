package org.memhygiene.core.ksm;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated set of KSM knob values, in the order they must be written. Built only through
 * {@link #parse} or {@link #of}, so an invalid value never reaches sysfs.
 *
 * <p>Order: run=2 (unmerge) first, so that merge_across_nodes and max_page_sharing can change after
 * it; advisor_mode before pages_to_scan (the kernel refuses pages_to_scan while the advisor runs);
 * run=0/1 last, so ksmd starts with the new scan parameters.
 */
public final class KsmSettings {
    private final Map<KsmKnob, String> values;

    private KsmSettings(Map<KsmKnob, String> values) {
        this.values = values;
    }

    /** Parses "knob=value" words; every problem in the whole list is reported at once. */
    public static KsmSettings parse(List<String> assignments) {
        Map<KsmKnob, String> raw = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (String assignment : assignments) {
            int eq = assignment.indexOf('=');
            if (eq <= 0) {
                problems.add("'" + assignment + "' is not KEY=VALUE");
                continue;
            }
            String name = assignment.substring(0, eq).strip();
            var knob = KsmKnob.byName(name);
            if (knob.isEmpty()) {
                problems.add(
                        KsmFile.byName(name).isPresent()
                                ? name + " is a read-only KSM counter, not a knob"
                                : "unknown KSM knob '" + name + "'");
                continue;
            }
            if (raw.containsKey(knob.get())) {
                problems.add(name + " is given more than once");
                continue;
            }
            raw.put(knob.get(), assignment.substring(eq + 1));
        }
        if (raw.isEmpty() && problems.isEmpty()) {
            problems.add("no KEY=VALUE given");
        }
        Map<KsmKnob, String> validated = new EnumMap<>(KsmKnob.class);
        raw.forEach((knob, value) -> {
            try {
                validated.put(knob, knob.validate(value));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        });
        if (problems.isEmpty()) {
            problems.addAll(crossCheck(validated));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    String.join("\n", problems) + "\n(nothing was written; KSM knobs: " + KsmKnob.names() + ")");
        }
        return new KsmSettings(Collections.unmodifiableMap(validated));
    }

    /** Settings from knob values (validated the same way). */
    public static KsmSettings of(Map<KsmKnob, String> values) {
        List<String> assignments = new ArrayList<>();
        values.forEach((knob, value) -> assignments.add(knob.fileName() + "=" + value));
        return parse(assignments);
    }

    private static List<String> crossCheck(Map<KsmKnob, String> v) {
        List<String> problems = new ArrayList<>();
        if (v.containsKey(KsmKnob.PAGES_TO_SCAN) && "scan-time".equals(v.get(KsmKnob.ADVISOR_MODE))) {
            problems.add("pages_to_scan cannot be set together with advisor_mode=scan-time: the advisor sets it");
        }
        if (v.containsKey(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN)
                && v.containsKey(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN)
                && Long.parseLong(v.get(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN))
                        > Long.parseLong(v.get(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN))) {
            problems.add("advisor_min_pages_to_scan (" + v.get(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN)
                    + ") must not exceed advisor_max_pages_to_scan (" + v.get(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN) + ")");
        }
        return problems;
    }

    public boolean contains(KsmKnob knob) {
        return values.containsKey(knob);
    }

    public String get(KsmKnob knob) {
        return values.get(knob);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The knobs in the order they must be written, with the text to write. */
    public List<Map.Entry<KsmKnob, String>> inWriteOrder() {
        List<Map.Entry<KsmKnob, String>> ordered = new ArrayList<>();
        String run = values.get(KsmKnob.RUN);
        if (run != null && Long.parseLong(run) == KsmKnob.RUN_UNMERGE) {
            ordered.add(Map.entry(KsmKnob.RUN, run));
        }
        values.forEach((knob, value) -> {
            if (knob != KsmKnob.RUN) {
                ordered.add(Map.entry(knob, value));
            }
        });
        if (run != null && Long.parseLong(run) != KsmKnob.RUN_UNMERGE) {
            ordered.add(Map.entry(KsmKnob.RUN, run));
        }
        return ordered;
    }

    /** As a map from knob file name to value, in write order. */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        inWriteOrder().forEach(e -> map.put(e.getKey().fileName(), e.getValue()));
        return map;
    }

    /**
     * The JSON form in every document (API, CLI, history): the knob map in write order, a number where the knob
     * takes one, e.g. {@code {"pages_to_scan": 1250, "smart_scan": 0}}.
     */
    @JsonValue
    public Map<String, Object> knobValues() {
        return knobValues(asMap());
    }

    /** {@link #knobValues()} of knob texts, as the history stores them. */
    public static Map<String, Object> knobValues(Map<String, String> knobs) {
        Map<String, Object> json = new LinkedHashMap<>();
        knobs.forEach(
                (knob, value) -> json.put(knob, value.matches("-?[0-9]+") ? (Object) Long.parseLong(value) : value));
        return json;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
