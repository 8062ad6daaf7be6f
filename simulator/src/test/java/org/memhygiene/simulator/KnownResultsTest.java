package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The results KSM is known for, reproduced by the model: each fails if the rule behind it is taken out
 * (image sharing, zero pages, the checksum gate, copy on write, max_page_sharing, NUMA, smart_scan).
 */
class KnownResultsTest {
    static Simulation sim(String ksm, String guests) {
        return new Simulation(ScenarioParser.parse("""
                name: test
                seed: 7
                ksm: {%s}
                guests:
                %s
                """.formatted(ksm, guests.indent(2)), "test"));
    }

    static void untilFullScans(Simulation s, long scans) {
        for (int i = 0; i < 100_000 && s.ksmd().fullScans() < scans; i++) {
            s.advance(Duration.ofMillis(100));
        }
        assertTrue(s.ksmd().fullScans() >= scans, "ksmd reached " + scans + " full scans");
    }

    static final String IDLE = "boot: 0s, churn: {anon: 0}, free_memory: {stale: 0, zero: 0}";

    @Test
    void identicalGuestsShareMostOfTheirOsImage() {
        Simulation s = sim("pages_to_scan: 1000, sleep_millisecs: 10", """
                - {name: web, count: 3, image: debian, memory: 16MiB, layout: {os_image: 0.5, page_cache: 0, anon: 0.2, zero: 0, secret: 0}, sharing: {os_image: 0.95}, %s}
                - {name: other, image: alpine, memory: 16MiB, layout: {os_image: 0.5, page_cache: 0, anon: 0.2, zero: 0, secret: 0}, sharing: {os_image: 0.95}, %s}
                """.formatted(IDLE, IDLE));
        untilFullScans(s, 3);
        for (String name : new String[] {"web-1", "web-2", "web-3"}) {
            Guest g = s.guest(name);
            assertTrue(
                    g.mergingPages >= 0.9 * g.osEnd,
                    name + " merged " + g.mergingPages + " of " + g.osEnd + " OS pages");
            assertTrue(g.mergingPages <= g.osEnd, "only OS pages are alike: " + g.mergingPages);
        }
        assertEquals(0, s.guest("other").mergingPages, "a guest of another image shares nothing");
        KsmStats k = s.ksmStats();
        // 3 guests x ~95% of 2048 OS pages: one KSM page per shared OS page, two more mappings each.
        long shared = k.pagesShared().getAsLong();
        assertTrue(shared > 1800 && shared <= 2048, "pages_shared " + shared);
        assertEquals(2 * shared, k.pagesSharing().getAsLong());
        assertTrue(
                s.model().stable.crossVmPages() >= 3 * 1800,
                "merged across VMs: " + s.model().stable.crossVmPages());
    }

    @Test
    void zeroPagesDominateIdleGuestsSavings() {
        Simulation s = sim("pages_to_scan: 1000, sleep_millisecs: 10, use_zero_pages: 1", """
                - {name: idle, count: 2, memory: 16MiB, boot: 0s, free_memory: {stale: 0.1, zero: 0.8},
                   layout: {os_image: 0.1, page_cache: 0.05, anon: 0.05, zero: 0.05, secret: 0.01}}
                """);
        untilFullScans(s, 3);
        KsmStats k = s.ksmStats();
        assertTrue(k.ksmZeroPages().getAsLong() > 3 * k.pagesSharing().getAsLong(), k.toString());
        try (SimulatedHost host = SimulatedHost.of(s.scenario(), Clock.systemUTC(), 1)) {
            host.advance(Duration.ofSeconds(30));
            for (Exposure.VmReclaim vm : host.exposure().vms()) {
                assertTrue(vm.zeroPageBytes() > 3 * vm.sharingBytes(), vm.toString());
            }
        }
    }

    private static long freedPagesMerged(Simulation s, Guest g, int flag) {
        long n = 0;
        for (int p = g.base + g.usedEnd; p < g.base + g.pages; p++) {
            if (s.model().has(p, PageFlags.FREE) && s.model().has(p, flag)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void withoutZeroingFreedStaleMemoryDoesNotMerge() {
        Simulation s = withEvents("{mode: none}");
        s.advance(Duration.ofSeconds(20)); // allocated at 1s, freed at 11s
        untilFullScans(s, s.ksmd().fullScans() + 4);
        Guest g = s.guest("g-1");
        assertEquals(
                0,
                freedPagesMerged(s, g, PageFlags.ZERO_MERGED) + freedPagesMerged(s, g, PageFlags.STABLE),
                "stale unique data in freed pages never matches anything");
        assertTrue(g.freePages > 0.7 * g.pages && s.model().stable.crossVmPages() < g.osEnd * 2 + 1);
    }

    @Test
    void withZeroingFreedMemoryMergesWithinAboutTwoFullScans() {
        for (String hygiene : new String[] {
            "{mode: init_on_free}",
            "{mode: agent_scrub, scrub: {interval: 0s, large_free_threshold: 1MiB, min_headroom: 1MiB, headroom_percent: 0}}"
        }) {
            Simulation s = withEvents(hygiene);
            s.advance(Duration.ofSeconds(11)); // the free happens at 11s
            s.advance(Duration.ofMillis(1));
            long atFree = s.ksmd().fullScans();
            Guest g = s.guest("g-1");
            long freed = 0;
            for (int p = g.base + g.usedEnd; p < g.base + g.pages; p++) {
                if (s.model().has(p, PageFlags.PRESENT) && s.model().has(p, PageFlags.FREE)) {
                    freed++;
                }
            }
            assertTrue(freed > 5000, hygiene + ": freed pages present " + freed);
            untilFullScans(s, atFree + 1);
            assertTrue(
                    freedPagesMerged(s, g, PageFlags.ZERO_MERGED) < freed,
                    hygiene + ": one visit only records the checksum (the gate), it does not merge yet");
            untilFullScans(s, atFree + 3);
            assertEquals(freed, freedPagesMerged(s, g, PageFlags.ZERO_MERGED), hygiene + ": all zeroed pages merged");
        }
    }

    /**
     * With smart_scan=1 pages that failed to merge for many scans are skipped up to 8 scans at a time
     * (mm/ksm.c should_skip_rmap_item), so a freshly zeroed page that was long unique waits longer;
     * the "two full scans" result is without it.
     */
    private static Simulation withEvents(String hygiene) {
        return new Simulation(ScenarioParser.parse("""
                name: free
                ksm: {pages_to_scan: 500, sleep_millisecs: 10, use_zero_pages: 1, smart_scan: 0}
                guests:
                  - {name: g, count: 2, memory: 32MiB, boot: 0s, churn: {anon: 0}, free_memory: {stale: 0, zero: 0},
                     layout: {os_image: 0.1, page_cache: 0, anon: 0.1, zero: 0, secret: 0}, hygiene: %s}
                events:
                  - {at: 1s, action: allocate, bytes: 24MiB, hold: 10s}
                """.formatted(hygiene), "test"));
    }

    @Test
    void writesToMergedPagesUnmergeThem() {
        Simulation s = sim("pages_to_scan: 1000, sleep_millisecs: 10", """
                - {name: web, count: 2, memory: 16MiB, layout: {os_image: 0.5, page_cache: 0, anon: 0, zero: 0, secret: 0}, sharing: {os_image: 1}, %s}
                """.formatted(IDLE));
        untilFullScans(s, 3);
        Guest a = s.guest("web-1");
        assertEquals(a.osEnd, a.mergingPages);
        long sharingBefore = s.ksmStats().pagesSharing().getAsLong();
        assertEquals(a.osEnd, sharingBefore);
        for (int p = a.base; p < a.base + a.osEnd; p++) {
            s.model().write(a, p, Content.unique(Content.ANON, 1_000_000 + p));
        }
        assertEquals(0, a.liveMergedPages, "copy on write: no page of web-1 maps a KSM page any more");
        assertEquals(0, s.model().stable.crossVmPages(), "nothing is shared across VMs now");
        assertEquals(
                sharingBefore,
                s.ksmStats().pagesSharing().getAsLong(),
                "the kernel's counters change only when ksmd revisits the pages");
        untilFullScans(s, s.ksmd().fullScans() + 2);
        KsmStats k = s.ksmStats();
        assertEquals(0, a.mergingPages);
        // web-2's pages still map the KSM pages, now alone: each still counts in pages_shared.
        assertEquals(0, k.pagesSharing().getAsLong(), k.toString());
        assertEquals(a.osEnd, k.pagesShared().getAsLong(), k.toString());
    }

    @Test
    void maxPageSharingChainsDupsLikeTheKernel() {
        // The real kernel on this machine, 4096 zero pages of one process with use_zero_pages=0:
        // pages_shared 16, pages_sharing 4080, stable_node_chains 1, stable_node_dups 16.
        Simulation s = sim("pages_to_scan: 5000, sleep_millisecs: 10, use_zero_pages: 0, max_page_sharing: 256", """
                - {name: z, memory: 16MiB, boot: 0s, layout: {os_image: 0, page_cache: 0, anon: 0, zero: 1, secret: 0}, churn: {anon: 0}}
                """);
        untilFullScans(s, 3);
        KsmStats k = s.ksmStats();
        assertEquals(16, k.pagesShared().getAsLong());
        assertEquals(4080, k.pagesSharing().getAsLong());
        assertEquals(1, k.stableNodeChains().getAsLong());
        assertEquals(16, k.stableNodeDups().getAsLong());
        assertEquals(0, k.ksmZeroPages().getAsLong());
    }

    @Test
    void mergeAcrossNodesZeroKeepsNumaNodesApart() {
        String guests = """
                - {name: a, numa_node: 0, memory: 16MiB, layout: {os_image: 0.5, page_cache: 0, anon: 0, zero: 0, secret: 0}, sharing: {os_image: 1}, %s}
                - {name: b, numa_node: 1, memory: 16MiB, layout: {os_image: 0.5, page_cache: 0, anon: 0, zero: 0, secret: 0}, sharing: {os_image: 1}, %s}
                """.formatted(IDLE, IDLE);
        Simulation apart = sim("pages_to_scan: 1000, merge_across_nodes: 0", guests);
        untilFullScans(apart, 3);
        assertEquals(0, apart.ksmStats().pagesSharing().getAsLong());
        Simulation across = sim("pages_to_scan: 1000, merge_across_nodes: 1", guests);
        untilFullScans(across, 3);
        assertEquals(2048, across.ksmStats().pagesSharing().getAsLong());
    }

    @Test
    void smartScanSkipsPagesThatKeepFailingToMerge() {
        String guests =
                "- {name: u, memory: 16MiB, layout: {os_image: 0, page_cache: 0, anon: 1, zero: 0, secret: 0}, %s}"
                        .formatted(IDLE);
        Simulation smart = sim("pages_to_scan: 5000, smart_scan: 1", guests);
        untilFullScans(smart, 10);
        Simulation plain = sim("pages_to_scan: 5000, smart_scan: 0", guests);
        untilFullScans(plain, 10);
        assertEquals(0, plain.ksmStats().pagesSkipped().getAsLong());
        long skipped = smart.ksmStats().pagesSkipped().getAsLong();
        assertTrue(skipped > 4096 * 3, "skipped " + skipped);
        assertTrue(smart.ksmStats().pagesScanned().getAsLong()
                < plain.ksmStats().pagesScanned().getAsLong() * 3 / 4);
    }

    @Test
    void stoppingAVmRemovesItsMergesAndItsMemory() {
        Simulation s = new Simulation(ScenarioParser.parse("""
                name: stop
                ksm: {pages_to_scan: 1000, use_zero_pages: 1}
                guests:
                  - {name: web, count: 2, memory: 16MiB, boot: 0s, sharing: {os_image: 1}}
                events:
                  - {at: 20s, guest: web-2, action: stop}
                """, "test"));
        s.advance(Duration.ofSeconds(19));
        assertTrue(s.guest("web-2").mergingPages > 0 && s.guest("web-2").zeroMergedPages > 0);
        s.advance(Duration.ofSeconds(2));
        Guest g = s.guest("web-2");
        assertEquals(0, g.presentPages + g.mergingPages + g.zeroMergedPages + g.rmapItems);
        assertEquals(
                s.guest("web-1").zeroMergedPages, s.ksmStats().ksmZeroPages().getAsLong());
        assertEquals(0, s.model().stable.crossVmPages());
    }
}
