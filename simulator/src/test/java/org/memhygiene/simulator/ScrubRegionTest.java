package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The agent's scrub walks the free region only while a page there holds data, so the counts it relies
 * on (free pages of the region, and those present with non-zero content) must match the pages: checked
 * against a recount every simulated second through allocations with data freed again, init_on_free,
 * free page reporting's discards, a VM stopped and started, and scrubs of part of the free memory, whose
 * outcome is checked against the page-by-page walk (the first free pages of the region zeroed).
 */
class ScrubRegionTest {
    private static final String SCENARIO = """
            name: scrub-region
            seed: 5
            ksm: {pages_to_scan: 500, sleep_millisecs: 10, use_zero_pages: 1}
            defaults:
              memory: 8MiB
              boot: 1s
              layout: {os_image: 0.2, page_cache: 0.2, anon: 0.2, zero: 0.05, secret: 0.02}
              free_memory: {stale: 0.4, stale_secret: 0.2, zero: 0.2}
              churn: {anon: 20, page_cache: 20, secret: 1}
            guests:
              - {name: agent, count: 2, image: a, hygiene: {mode: agent_scrub, scrub: {interval: 7s, max: 256KiB, min_headroom: 1MiB, headroom_percent: 0, large_free_threshold: 1MiB}}}
              - {name: zeroing, image: a, hygiene: {mode: init_on_free}}
              - {name: reporting, image: a, hygiene: {mode: free_page_reporting, free_page_reporting: {order: 3, delay: 1s}}}
              - {name: none, image: a}
            events:
              - {at: 3s, action: allocate, bytes: 1MiB, hold: 6s, content: secret}
              - {at: 5s, action: allocate, bytes: 512KiB, hold: 11s}
              - {at: 12s, guests: [agent-1, none], action: allocate, bytes: 768KiB, hold: 4s, content: zero}
              - {at: 20s, guest: agent-2, action: stop}
              - {at: 24s, guest: agent-2, action: start}
              - {at: 27s, action: allocate, bytes: 1MiB, hold: 5s}
            """;

    @Test
    void theRegionCountsMatchThePagesAndPartialScrubsZeroTheFirstFreePages() {
        Simulation sim = new Simulation(ScenarioParser.parse(SCENARIO, "scrub-region"));
        HostModel model = sim.model();
        long dirtySeen = 0;
        for (int second = 1; second <= 40; second++) {
            sim.advance(Duration.ofSeconds(1));
            for (Guest g : model.guests) {
                long[] recount = recount(model, g);
                assertEquals(recount[0], g.scrubRegionFreePages, g.name() + " free pages at " + second + " s");
                assertEquals(recount[1], g.scrubRegionDirtyPages, g.name() + " pages with data at " + second + " s");
                dirtySeen = Math.max(dirtySeen, g.scrubRegionDirtyPages);
            }
            if (second % 5 == 0) {
                Guest agent = sim.guest("agent-1");
                long dirtyBefore = agent.scrubRegionDirtyPages;
                List<Integer> expectZeroed = firstFreePages(model, agent, 64);
                ScrubReport r = sim.scrub(agent, 64 * sim.pageSizeBytes());
                for (int p : expectZeroed) {
                    assertTrue(
                            (model.flags[p] & PageFlags.PRESENT) == 0 || model.content[p] == Content.ZERO,
                            "page " + p + " zeroed at " + second + " s");
                }
                long freeBefore = recount(model, agent)[0];
                assertEquals(
                        Math.min(64, freeBefore) * sim.pageSizeBytes(), r.bytesZeroed(), "bytes at " + second + " s");
                assertTrue(agent.scrubRegionDirtyPages <= dirtyBefore);
                assertEquals(recount(model, agent)[1], agent.scrubRegionDirtyPages);
            }
        }
        assertTrue(dirtySeen > 64, "free pages with data to scrub appeared: " + dirtySeen);
    }

    /** Free pages of the region, and those present with data, page by page. */
    private static long[] recount(HostModel model, Guest g) {
        long free = 0;
        long dirty = 0;
        for (int p = g.base + g.usedEnd; p < g.base + g.pages; p++) {
            int f = model.flags[p];
            if ((f & PageFlags.FREE) != 0) {
                free++;
                if ((f & PageFlags.PRESENT) != 0 && model.content[p] != Content.ZERO) {
                    dirty++;
                }
            }
        }
        return new long[] {free, dirty};
    }

    private static List<Integer> firstFreePages(HostModel model, Guest g, int count) {
        List<Integer> pages = new ArrayList<>();
        for (int p = g.base + g.usedEnd; p < g.base + g.pages && pages.size() < count; p++) {
            if ((model.flags[p] & PageFlags.FREE) != 0) {
                pages.add(p);
            }
        }
        return pages;
    }
}
