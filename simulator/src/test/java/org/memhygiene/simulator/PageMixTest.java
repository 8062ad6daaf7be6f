package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.scenario.ContentGroup;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * Published page mixes, written exactly ("Z zero pages, S shareable pages in K distinct contents spread
 * over G guests, U unique pages", docs/SIMULATOR.md "An exact page mix"), converge to the kernel's
 * arithmetic for full merging: per content of n copies with max_page_sharing M, n / M full KSM pages
 * and one more for a remainder of at least 2 (a remainder of 1 finds no partner); a content with more
 * than one KSM page is a chain of that many dups; with use_zero_pages=1 every zero page is in
 * ksm_zero_pages, without it the zero pages are one more content.
 */
class PageMixTest {
    /** What full merging gives: shared, sharing, chains, dups, zero pages. */
    record Expected(long shared, long sharing, long chains, long dups, long zeroPages) {
        static Expected of(List<Long> copies, long zeroPages, boolean useZeroPages, int maxPageSharing) {
            List<Long> contents = new ArrayList<>(copies);
            if (!useZeroPages) {
                contents.add(zeroPages);
            }
            long shared = 0;
            long sharing = 0;
            long chains = 0;
            long dups = 0;
            for (long n : contents) {
                long full = n / maxPageSharing;
                long rest = n % maxPageSharing;
                long pages = full + (rest >= 2 ? 1 : 0);
                shared += pages;
                sharing += full * (maxPageSharing - 1) + (rest >= 2 ? rest - 1 : 0);
                if (pages >= 2) {
                    chains++;
                    dups += pages;
                }
            }
            return new Expected(shared, sharing, chains, dups, useZeroPages ? zeroPages : 0);
        }
    }

    @ParameterizedTest(
            name =
                    "{0} guests, {1} zero + {2} unique each, {3} contents: {4}; max_page_sharing {5}, use_zero_pages {6}")
    @CsvSource(delimiter = '|', textBlock = """
            4 | 1500 | 10000 | 6000 | pages: 90000                  | 256 | 1
            4 | 1500 | 10000 | 6000 | pages: 90000                  | 256 | 0
            3 | 500 | 700  | 1000 | pages: 15000                    | 256 | 1
            3 | 500 | 700  | 1000 | pages: 15000                    | 256 | 0
            4 | 300 | 100  | 10   | copies: 600                     | 256 | 1
            5 | 0   | 2000 | 5    | copies: 257                     | 256 | 1
            2 | 900 | 0    | 4001 | pages: 12345                    | 16  | 0
            6 | 50  | 500  | 2000 | 'copies: {zipf: 1.5, max: 600}' | 64  | 1
            """)
    void aPageMixConvergesToTheKernelsArithmetic(
            int guests,
            int zeroPerGuest,
            int uniquePerGuest,
            int contents,
            String spread,
            int maxPageSharing,
            int useZeroPages) {
        Scenario s = ScenarioParser.parse(
                """
                name: mix
                seed: 3
                ksm: {pages_to_scan: 4000, sleep_millisecs: 10, use_zero_pages: %d, max_page_sharing: %d}
                defaults:
                  memory: 256MiB
                  boot: 0s
                  layout: {os_image: 0, page_cache: 0, anon: %d pages, zero: %d pages, secret: 0}
                  free_memory: {stale: 0, zero: 0}
                guests:
                  - {name: g, count: %d}
                content_groups:
                  - {name: shared, contents: %d, %s}
                """.formatted(useZeroPages, maxPageSharing, uniquePerGuest, zeroPerGuest, guests, contents, spread),
                "mix");
        ContentGroup group = s.contentGroups().get(0);
        List<Long> copies = new ArrayList<>();
        for (int i = 0; i < group.contents(); i++) {
            copies.add(group.copies(i));
        }
        long zero = (long) guests * zeroPerGuest;
        long unique = (long) guests * uniquePerGuest;
        Expected want = Expected.of(copies, zero, useZeroPages == 1, maxPageSharing);

        Simulation sim = new Simulation(s);
        while (sim.ksmd().fullScans() < 6) {
            sim.advance(Duration.ofSeconds(1));
        }
        KsmStats k = sim.ksmStats();
        assertEquals(
                want,
                new Expected(
                        k.pagesShared().getAsLong(),
                        k.pagesSharing().getAsLong(),
                        k.stableNodeChains().getAsLong(),
                        k.stableNodeDups().getAsLong(),
                        k.ksmZeroPages().getAsLong()),
                k.toString());
        long page = sim.pageSizeBytes();
        long rmapItems = group.pages() + unique + (useZeroPages == 1 ? 0 : zero);
        assertEquals(
                (want.sharing() + want.zeroPages()) * page - rmapItems * 64,
                k.generalProfitBytes().getAsLong());
        assertEquals(zero + group.pages() + unique - want.sharing() - want.zeroPages(), sim.residentPages());
        if (guests == 4 && contents == 6000 && page == 4096) {
            // The worked example in docs/SIMULATOR.md.
            assertEquals(
                    useZeroPages == 1
                            ? List.of(6000L, 84000L, 0L, 0L, 6000L, 360_320_000L, 46_000L)
                            : List.of(6024L, 89976L, 1L, 24L, 0L, 359_837_696L, 46_024L),
                    List.of(
                            k.pagesShared().getAsLong(),
                            k.pagesSharing().getAsLong(),
                            k.stableNodeChains().getAsLong(),
                            k.stableNodeDups().getAsLong(),
                            k.ksmZeroPages().getAsLong(),
                            k.generalProfitBytes().getAsLong(),
                            sim.residentPages()));
        }
    }
}
