package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * The boot writes each in-use class of a guest as its layout and sharing say (docs/SIMULATOR.md,
 * "Guests"), at once or spread over time (then each step starts where the last stopped, mid-class).
 */
class BootTest {
    @ParameterizedTest(name = "boot: {0}")
    @ValueSource(strings = {"0s", "7s"})
    void theBootWritesEachClassAsTheScenarioLaysItOut(String boot) {
        Simulation s = KnownResultsTest.sim("run: 0", """
                - {name: web, count: 2, image: debian, memory: 16MiB, boot: %s, churn: {anon: 0},
                   layout: {os_image: 1000 pages, page_cache: 800 pages, anon: 500 pages, zero: 100 pages,
                            secret: 50 pages},
                   sharing: {os_image: 600 pages, page_cache: 300 pages, secret: 20 pages},
                   free_memory: {stale: 0, zero: 0}}
                """.formatted(boot));
        // Simulated time: a step of ksmd's default sleep at a time, until both guests have booted.
        int steps = 0;
        while (steps < 10_000
                && (s.guest("web-1").bootCursor < s.guest("web-1").pages
                        || s.guest("web-2").bootCursor < s.guest("web-2").pages)) {
            s.advance(Duration.ofMillis(20));
            steps++;
        }
        assertTrue(steps < 10_000, "the guests booted within 200 simulated seconds");
        assertEquals(boot.equals("0s"), steps == 1, "boot steps: " + steps);
        HostModel m = s.model();
        int image = imageOf(m.content[s.guest("web-1").base]);
        Set<Integer> unique = new HashSet<>();
        int[] uniquePerClass = new int[Content.SECRET + 1];
        for (String name : new String[] {"web-1", "web-2"}) {
            Guest g = s.guest(name);
            assertEquals(2450, g.usedEnd, "in-use pages of " + name);
            for (int o = 0; o < g.usedEnd; o++) {
                int p = g.base + o;
                int c = m.content[p];
                String at = name + " offset " + o + ": content " + Integer.toHexString(c);
                assertTrue(m.has(p, PageFlags.PRESENT), at + " not present after the boot");
                int pageClass;
                int index;
                int sharedPages;
                if (o < 1000) {
                    pageClass = Content.OS_IMAGE;
                    index = o;
                    sharedPages = 600;
                } else if (o < 1800) {
                    pageClass = Content.PAGE_CACHE;
                    index = o - 1000;
                    sharedPages = 300;
                } else if (o < 2300) {
                    pageClass = Content.ANON;
                    index = o - 1800;
                    sharedPages = 0;
                } else if (o < 2400) {
                    assertEquals(Content.ZERO, c, at);
                    continue;
                } else {
                    pageClass = Content.SECRET;
                    index = o - 2400;
                    sharedPages = 20;
                }
                if (index < sharedPages) {
                    // The class's first pages, the same content in every guest of the image.
                    assertEquals(Content.shared(pageClass, image, index), c, at);
                } else {
                    assertTrue(Content.isUnique(c) && Content.pageClass(c) == pageClass, at + ": unique expected");
                    assertTrue(unique.add(c), at + ": unique content written twice");
                    uniquePerClass[pageClass]++;
                }
            }
        }
        // Each class drew exactly one unique content per page that holds one: no page was written twice.
        for (int pageClass : new int[] {Content.OS_IMAGE, Content.PAGE_CACHE, Content.ANON, Content.SECRET}) {
            assertEquals(
                    Content.unique(pageClass, uniquePerClass[pageClass]),
                    m.newUnique(pageClass),
                    "unique contents drawn in class " + pageClass);
        }
    }

    /** The image a shared OS-image page's content was made for. */
    private static int imageOf(int osImageContent) {
        for (int image = 1; image <= Content.MAX_IMAGES; image++) {
            if (Content.shared(Content.OS_IMAGE, image, 0) == osImageContent) {
                return image;
            }
        }
        throw new AssertionError("not a shared OS-image content: " + Integer.toHexString(osImageContent));
    }
}
