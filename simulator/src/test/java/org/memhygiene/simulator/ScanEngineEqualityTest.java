package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The skipping engine against the page-by-page reference: the same scenario, sample by sample, every
 * KSM counter, every guest's counters and the exposure figures identical, and at the end every page's
 * content, rmap slot, flags and age. The scenario has what changes pages under ksmd: churn (copy on
 * write of KSM pages), allocations held and freed, all four hygiene modes (scrubs, init_on_free,
 * free page reporting's discards), a VM stopped and started, smart_scan skips, use_zero_pages,
 * max_page_sharing chains, and knob changes (smart_scan off and on, run=2, use_zero_pages).
 */
class ScanEngineEqualityTest {
    static Scenario scenario(String ksm) {
        return ScenarioParser.parse("""
                name: engines
                seed: 11
                ksm: {%s}
                defaults:
                  memory: 8MiB
                  boot: 2s
                  layout: {os_image: 0.2, page_cache: 0.2, anon: 0.2, zero: 0.1, secret: 0.02}
                  sharing: {os_image: 0.9, page_cache: 0.6, secret: 0.5}
                  free_memory: {stale: 0.5, stale_secret: 0.2, zero: 0.2}
                  churn: {anon: 40, page_cache: 30, secret: 2, os_image: 5}
                guests:
                  - {name: none, count: 2, image: a}
                  - {name: scrub, image: a, hygiene: {mode: agent_scrub, scrub: {interval: 20s, min_headroom: 1MiB, headroom_percent: 0, large_free_threshold: 1MiB}}}
                  - {name: zeroing, image: b, hygiene: {mode: init_on_free}}
                  - {name: reporting, image: b, numa_node: 1, hygiene: {mode: free_page_reporting, free_page_reporting: {order: 4, delay: 1s}}}
                  - {name: late, image: a, start_at: never}
                events:
                  - {at: 15s, action: allocate, bytes: 2MiB, hold: 20s, content: zero}
                  - {at: 30s, guests: [none-1, zeroing], action: allocate, bytes: 1MiB, hold: 25s}
                  - {at: 40s, guest: late, action: start}
                  - {at: 70s, guest: none-2, action: stop}
                  - {at: 90s, guest: none-2, action: start}
                  - {at: 100s, guest: scrub, action: scrub}
                  - {at: 110s, guest: none-1, action: churn, churn: {anon: 0, page_cache: 0}}
                """.formatted(ksm), "engines");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "pages_to_scan: 700, sleep_millisecs: 10, use_zero_pages: 1, max_page_sharing: 4",
                "pages_to_scan: 333, sleep_millisecs: 20, use_zero_pages: 0, max_page_sharing: 3",
                "pages_to_scan: 2000, sleep_millisecs: 0, use_zero_pages: 1, smart_scan: 0"
            })
    void theSkippingEngineMatchesThePageByPageEngineExactly(String ksm) {
        Simulation reference = sameSampleBySample(
                scenario(ksm),
                List.of(
                        List.of("smart_scan=0"),
                        List.of("smart_scan=1"),
                        List.of("run=2"),
                        List.of("run=1", "use_zero_pages=1"),
                        List.of("use_zero_pages=0")),
                40,
                240);
        assertTrue(
                reference.ksmd().fullScans() >= 20,
                "many full scans: " + reference.ksmd().fullScans());
        assertTrue(reference.ksmStats().pagesSkipped().getAsLong() > 0 || ksm.contains("smart_scan: 0"));
    }

    /**
     * Pages that use_zero_pages maps to the zero page keep their rmap item until ksmd's next visit frees
     * it; the skipping engine files them in a class of their own. Here guests write them (allocations
     * into just-zeroed free memory) and the host discards them (free page reporting) before that visit.
     * use_zero_pages is switched on while the host has a single zero page: with smart_scan 0 it is in the
     * unstable tree at every scan, so its merge must take it out of pages_unshared.
     */
    @ParameterizedTest
    @ValueSource(strings = {"smart_scan: 1", "smart_scan: 0"})
    void zeroMappedPagesWrittenOrDiscardedBeforeTheirNextVisit(String smart) {
        StringBuilder events = new StringBuilder();
        // Allocations held briefly at uneven times, so that some land on pages zeroed a scan ago.
        for (int k = 0, at = 12_000; k < 300; k++, at += 290 + 70 * (k % 5)) {
            events.append(
                    "  - {at: %dms, guests: [zeroing, reporting], action: allocate, bytes: %dKiB, hold: %dms, content: %s}%n"
                            .formatted(at, 256 + 256 * (k % 3), 100 + 60 * (k % 6), k % 2 == 0 ? "zero" : "unique"));
        }
        Scenario s = ScenarioParser.parse("""
                name: zero-mapped
                seed: 5
                ksm: {pages_to_scan: 150, sleep_millisecs: 20, use_zero_pages: 0, %s}
                defaults:
                  memory: 2MiB
                  boot: 0s
                  layout: {os_image: 0.1, page_cache: 0.1, anon: 0.1, zero: 0, secret: 0}
                  free_memory: {stale: 0.3, stale_secret: 0, zero: 0}
                  churn: {anon: 5, page_cache: 5}
                guests:
                  - {name: lone, image: a, layout: {zero: 1 pages}}
                  - {name: zeroing, image: a, start_at: 11s, hygiene: {mode: init_on_free}}
                  - {name: reporting, image: a, start_at: 11s, hygiene: {mode: free_page_reporting, free_page_reporting: {order: 2, delay: 300ms}}}
                events:
                %s""".formatted(smart, events), "zero-mapped");
        Simulation reference = sameSampleBySample(s, List.of(List.of("use_zero_pages=1")), 10, 120);
        assertTrue(reference.ksmStats().ksmZeroPages().getAsLong() > 0, "zero pages merged");
    }

    /**
     * ksmd off, on, off with rmap items, unmerged (run=2: none again), on: an anon write is applied
     * only while ksmd holds rmap items (Simulation.churn), and the counters must not show it.
     */
    @Test
    void sameCountersWithKsmdOffThenOn() {
        Scenario s = ScenarioParser.parse("""
                name: off-then-on
                seed: 13
                ksm: {run: 0, pages_to_scan: 150, sleep_millisecs: 20, use_zero_pages: 1}
                defaults:
                  memory: 2MiB
                  boot: 0s
                  layout: {os_image: 0.1, page_cache: 0.2, anon: 0.4, zero: 0.05, secret: 0.01}
                  churn: {anon: 40, page_cache: 10, secret: 1}
                guests:
                  - {name: a1, image: a}
                  - {name: a2, image: a, hygiene: {mode: agent_scrub}}
                """, "off-then-on");
        Simulation reference = sameSampleBySample(
                s, List.of(List.of("run=1"), List.of("run=0"), List.of("run=2"), List.of("run=1")), 20, 110);
        assertTrue(reference.ksmStats().pagesSharing().getAsLong() > 0, "pages merged after the last run=1");
    }

    /**
     * Runs the scenario with both engines, {@code knobChanges} applied one every {@code changeEverySeconds},
     * and asserts every counter identical at every simulated second (and every page every minute and at
     * the end). Returns the page-by-page simulation.
     */
    private static Simulation sameSampleBySample(
            Scenario s, List<List<String>> knobChanges, int changeEverySeconds, int seconds) {
        Simulation reference = new Simulation(s, ScanEngine.PAGE_BY_PAGE);
        Simulation skipping = new Simulation(s, ScanEngine.SKIP_SETTLED);
        for (int second = 1; second <= seconds; second++) {
            int change = second / changeEverySeconds;
            if (second % changeEverySeconds == 0 && change <= knobChanges.size()) {
                KsmSettings settings = KsmSettings.parse(knobChanges.get(change - 1));
                assertEquals(reference.applyKsm(settings), skipping.applyKsm(settings));
            }
            // Odd steps, so samples fall anywhere in a wake's batch and a scan.
            Duration step = Duration.ofMillis(997);
            reference.advance(step);
            skipping.advance(step);
            String at = "at " + reference.elapsed() + " of " + s.name();
            assertEquals(reference.ksmStats(), skipping.ksmStats(), at);
            assertEquals(reference.staleSecretPageSeconds(), skipping.staleSecretPageSeconds(), at);
            assertEquals(reference.pageVisits(), skipping.pageVisits(), at);
            assertEquals(reference.residentPages(), skipping.residentPages(), at);
            for (Guest a : reference.model().guests) {
                Guest b = skipping.guest(a.name());
                assertEquals(
                        List.of(
                                a.presentPages,
                                a.freePages,
                                a.staleSecretFreePages,
                                a.zeroMergedPages,
                                a.mergingPages,
                                a.liveMergedPages,
                                a.rmapItems,
                                a.reportedPages),
                        List.of(
                                b.presentPages,
                                b.freePages,
                                b.staleSecretFreePages,
                                b.zeroMergedPages,
                                b.mergingPages,
                                b.liveMergedPages,
                                b.rmapItems,
                                b.reportedPages),
                        a.name() + " " + at);
            }
            assertEquals(
                    reference.model().stable.crossVmPages(),
                    skipping.model().stable.crossVmPages(),
                    at);
            if (second % 60 == 0) {
                samePages(reference, skipping, at);
            }
        }
        samePages(reference, skipping, "at the end of " + s.name());
        return reference;
    }

    private static void samePages(Simulation reference, Simulation skipping, String at) {
        reference.ksmd().settle();
        skipping.ksmd().settle();
        HostModel a = reference.model();
        HostModel b = skipping.model();
        // The skipping engine numbers a churn's anon content when it folds the page's block, not at the
        // write (HostModel.writeAnon): the same pages hold the same contents, under other serials.
        Map<Integer, Integer> anonSerials = new HashMap<>();
        Map<Integer, Integer> inverse = new HashMap<>();
        for (int p = 0; p < a.pageCount; p++) {
            sameUpToAnonSerials(a.content[p], b.content[p], anonSerials, inverse, "content of page " + p + " " + at);
            sameUpToAnonSerials(a.slot[p], b.slot[p], anonSerials, inverse, "rmap slot of page " + p + " " + at);
        }
        assertArrayEquals(a.flags, b.flags, "flags " + at);
        assertArrayEquals(a.age, b.age, "ages " + at);
    }

    /** Equal ids, or two unique anon contents that pair up one to one over the whole comparison. */
    private static void sameUpToAnonSerials(
            int a, int b, Map<Integer, Integer> anonSerials, Map<Integer, Integer> inverse, String what) {
        if (a == b && !isUniqueAnon(a)) {
            return;
        }
        assertTrue(isUniqueAnon(a) && isUniqueAnon(b), what + ": " + a + " against " + b);
        assertEquals(b, anonSerials.computeIfAbsent(a, k -> b), what + ": anon content paired with another");
        assertEquals(a, inverse.computeIfAbsent(b, k -> a), what + ": anon content paired with another");
    }

    private static boolean isUniqueAnon(int content) {
        return Content.isUnique(content) && Content.pageClass(content) == Content.ANON;
    }
}
