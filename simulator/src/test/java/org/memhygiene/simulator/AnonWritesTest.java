package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The skipping engine stores an anon write's new content only when a visit compares it
 * (SettledPages.writtenAnon), and notes every write per region of blocks until the scan gets there:
 * whatever came last must win, and no write may be lost, however many wait.
 */
class AnonWritesTest {
    private static Simulation booted() {
        Simulation sim = new Simulation(ScenarioParser.parse("""
                        name: anon-writes
                        seed: 5
                        ksm: {pages_to_scan: 100, sleep_millisecs: 20}
                        defaults:
                          memory: 8MiB
                          boot: 0s
                          layout: {os_image: 0.2, page_cache: 0.2, anon: 0.5, zero: 0.05, secret: 0.01}
                        guests:
                          - {name: vm, image: a}
                        """, "anon-writes"), ScanEngine.SKIP_SETTLED);
        sim.advance(Duration.ofSeconds(1));
        return sim;
    }

    /** The content of an anon page after an anon write and a write of other content, in that order or the other. */
    private record TwoWrites(int other, int content) {
        static TwoWrites of(boolean anonFirst) {
            Simulation sim = booted();
            HostModel model = sim.model();
            Guest g = sim.guest("vm");
            int page = g.base + g.cacheEnd + 3;
            int other = model.newUnique(Content.PAGE_CACHE);
            if (anonFirst) {
                model.writeAnon(g, page);
            }
            model.write(g, page, other);
            if (!anonFirst) {
                model.writeAnon(g, page);
            }
            sim.ksmd().settle();
            return new TwoWrites(other, model.content[page]);
        }
    }

    @Test
    void aWriteOfOtherContentAfterAnAnonWriteKeepsItsContent() {
        TwoWrites w = TwoWrites.of(true);
        assertEquals(w.other(), w.content(), "the later write's content, not a new anon serial");
    }

    @Test
    void anAnonWriteAfterAWriteOfOtherContentGivesNewAnonContent() {
        TwoWrites w = TwoWrites.of(false);
        assertNotEquals(w.other(), w.content());
        assertTrue(
                Content.isUnique(w.content()) && Content.pageClass(w.content()) == Content.ANON,
                "unique anon: " + w.content());
    }

    @Test
    void everyPageOfManyMoreAnonWritesThanARegionNotesGetsNewContent() {
        Simulation sim = booted();
        HostModel model = sim.model();
        Guest g = sim.guest("vm");
        int anonPages = g.anonEnd - g.cacheEnd;
        int[] before = new int[anonPages];
        for (int k = 0; k < anonPages; k++) {
            before[k] = model.content[g.base + g.cacheEnd + k];
        }
        // Each anon page once, then one page 20,000 times: more writes than one region's notes hold
        // (8,192), so the first ones must be applied, not dropped, to make room.
        for (int k = 0; k < anonPages; k++) {
            model.writeAnon(g, g.base + g.cacheEnd + k);
        }
        for (int n = 0; n < 20_000; n++) {
            model.writeAnon(g, g.base + g.cacheEnd);
        }
        sim.ksmd().settle();
        Set<Integer> contents = new HashSet<>();
        for (int k = 0; k < anonPages; k++) {
            int content = model.content[g.base + g.cacheEnd + k];
            assertNotEquals(before[k], content, "anon page " + k);
            assertTrue(contents.add(content), "anon page " + k + " shares its content " + content);
        }
    }

    /** The guest's anon pages' contents as the page-by-page engine has them. */
    private static int[] anonContents(Simulation sim) {
        Guest g = sim.guest("vm");
        sim.ksmd().settle();
        int[] contents = new int[g.anonEnd - g.cacheEnd];
        System.arraycopy(sim.model().content, g.base + g.cacheEnd, contents, 0, contents.length);
        return contents;
    }

    private static int changed(int[] before, int[] after) {
        int n = 0;
        for (int k = 0; k < before.length; k++) {
            n += before[k] != after[k] ? 1 : 0;
        }
        return n;
    }

    /**
     * While ksmd holds no rmap item an anon write is drawn but not applied (no checksum could tell its
     * content from the page's old unique content): a minute of anon churn with ksmd off leaves the anon
     * pages as they were; once ksmd runs, the writes land, and still do once it stops with its rmap
     * items. (That both engines' counters agree through it: ScanEngineEqualityTest, ksmd off then on.)
     */
    @Test
    void anonWritesWaitForKsmdsFirstRmapItem() {
        for (ScanEngine engine : ScanEngine.values()) {
            Simulation sim = new Simulation(ScenarioParser.parse("""
                            name: anon-unseen
                            seed: 9
                            ksm: {run: 0, pages_to_scan: 100, sleep_millisecs: 20}
                            defaults:
                              memory: 8MiB
                              boot: 0s
                              layout: {os_image: 0.2, page_cache: 0.2, anon: 0.5, zero: 0.05, secret: 0.01}
                              churn: {anon: 200, page_cache: 50}
                            guests:
                              - {name: vm, image: a}
                            """, "anon-unseen"), engine);
            sim.advance(Duration.ofSeconds(1));
            int[] atBoot = anonContents(sim);
            sim.advance(Duration.ofMinutes(1));
            assertEquals(0, sim.ksmd().rmapItems(), engine + ": ksmd off holds no rmap item");
            assertEquals(0, changed(atBoot, anonContents(sim)), engine + ": anon pages changed with ksmd off");
            sim.applyKsm(KsmSettings.parse(List.of("run=1")));
            sim.advance(Duration.ofSeconds(5));
            int[] withItems = anonContents(sim);
            assertTrue(sim.ksmd().rmapItems() > 0, engine + ": ksmd on holds rmap items");
            sim.advance(Duration.ofMinutes(1));
            int[] on = anonContents(sim);
            int written = changed(withItems, on);
            assertTrue(written > on.length / 2, engine + ": anon pages written with ksmd on: " + written);
            // Stopped, ksmd keeps its rmap items and their checksums: the writes still land.
            sim.applyKsm(KsmSettings.parse(List.of("run=0")));
            sim.advance(Duration.ofMinutes(1));
            written = changed(on, anonContents(sim));
            assertTrue(written > on.length / 2, engine + ": anon pages written with ksmd stopped: " + written);
        }
    }
}
