package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the run measured so far, in order: each phase's result, the checks that held and those that
 * failed (and the phases or setups that did not complete), and where the time went. The results
 * markdown ({@link ResultsMarkdown}) is rendered from it.
 */
final class SuiteResults {
    private final long began = System.nanoTime();
    private long lapMark = began;
    private final Map<String, Long> lapMillis = new LinkedHashMap<>();
    private final List<PhaseResult> phases = new ArrayList<>();
    private final List<String> held = new ArrayList<>();
    private final List<String> failed = new ArrayList<>();

    void add(PhaseResult result) {
        phases.add(result);
        for (Check c : result.checks()) {
            (c.held() ? held : failed).add(c.text());
            log("%s %s", c.held() ? "ok:" : "FAILED:", c.text());
        }
    }

    /** A phase or a group's setup that threw: it fails the run like a failed check. */
    void incomplete(String what, Exception e) {
        String text = what + " did not complete: " + e;
        failed.add(text);
        log("FAILED: %s", text);
    }

    /** Ends a span that began where the previous one ended; its duration goes into the report. */
    void lap(String name) {
        long now = System.nanoTime();
        lapMillis.merge(name, (now - lapMark) / 1_000_000, Long::sum);
        lapMark = now;
        log("phase done in %.1f s: %s", lapMillis.get(name) / 1000.0, name);
    }

    List<PhaseResult> phases() {
        return List.copyOf(phases);
    }

    List<String> held() {
        return List.copyOf(held);
    }

    List<String> failed() {
        return List.copyOf(failed);
    }

    Map<String, Long> lapMillis() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(lapMillis));
    }

    long seconds() {
        return (System.nanoTime() - began) / 1_000_000_000;
    }

    /** The console's summary: each check that held, the laps, then PASS or each failure and FAIL. */
    List<String> summary(String accelNote, long seconds) {
        List<String> lines = new ArrayList<>();
        for (String a : held) {
            lines.add("e2e: " + a);
        }
        lines.add("e2e: phases: "
                + String.join(
                        "; ",
                        lapMillis.entrySet().stream()
                                .map(e -> String.format(Locale.ROOT, "%s %.0f s", e.getKey(), e.getValue() / 1000.0))
                                .toList()));
        if (failed.isEmpty()) {
            lines.add(String.format(
                    Locale.ROOT, "e2e: PASS: %d assertions held, %s, %d s", held.size(), accelNote, seconds));
            return lines;
        }
        for (String f : failed) {
            lines.add("e2e: FAILED: " + f);
        }
        lines.add(String.format(
                Locale.ROOT,
                "e2e: FAIL: %d of %d assertions failed, %s, %d s",
                failed.size(),
                held.size() + failed.size(),
                accelNote,
                seconds));
        return lines;
    }
}
