package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * The real-VM suite's check of the daemon's reclaimed memory against the QEMU RSS drop over a scrub
 * ({@link AgentScrubPhase#controllerAgrees}), on the figures of a CI run (2026-12-04 17:00) in which the
 * daemon counted 16 MiB of huge-zero-mapped pages the scrub wrote as reclaimed in one guest (a pass saw
 * them backed before KSM merged them) and as never backed in the other.
 */
class ControllerAgreesTest {
    private static final long PAGE = 4096;
    private static final long MIB_PAGES = Mib.BYTES / PAGE;
    private static final long RSS_DROP = Math.round(291.3 * Mib.BYTES);

    private static JsonNode doc(double reclaimedMib, long zero, long zeroNeverBacked, long hugeZero) {
        ObjectNode doc = new ObjectMapper().createObjectNode();
        doc.put("page_size_bytes", PAGE);
        doc.put("method_label", "pagemap_scan+kpageflags");
        doc.put("reclaimed_bytes", Math.round(reclaimedMib * Mib.BYTES));
        ObjectNode pages = doc.putObject("pages");
        pages.put("zero", zero);
        pages.put("zero_never_backed", zeroNeverBacked);
        pages.put("huge_zero", hugeZero);
        pages.put("swapped", 0);
        pages.put("not_present", 1000);
        pages.put("given_back", 0);
        return doc;
    }

    private static final long ZERO_BEFORE = 7 * MIB_PAGES;
    private static final long HUGE_ZERO_BEFORE = 20 * MIB_PAGES;
    /** 291.4 MiB of zero pages more that held data (the RSS drop the page states account for). */
    private static final long ZERO_AFTER = ZERO_BEFORE + Math.round(291.4 * MIB_PAGES);
    /** And 16 MiB more that were huge-zero-mapped before the scrub wrote them. */
    private static final long ZERO_AFTER_WITH_HUGE = ZERO_AFTER + 16 * MIB_PAGES;

    /** The check over the scrub from the state before it (reclaimed 28.5 MiB) to {@code after}. */
    private static Check overTheScrub(JsonNode after) {
        return AgentScrubPhase.controllerAgrees(
                "dense-1", 1, RSS_DROP, doc(28.5, ZERO_BEFORE, 0, HUGE_ZERO_BEFORE), after);
    }

    @Test
    void scrubbedPagesThatWereNeverBackedBeforeMayCountAsReclaimed() {
        // dense-1: reclaimed grew by 307.4 MiB against an RSS drop of 291.3 MiB, 16 MiB left the huge zero page.
        Check check = overTheScrub(doc(335.9, ZERO_AFTER_WITH_HUGE, 0, HUGE_ZERO_BEFORE - 16 * MIB_PAGES));
        assertTrue(check.held(), check.text());
        assertTrue(check.text().contains("page states account for 291.4 MiB"), check.text());
        assertTrue(check.text().contains("plus at most 16.0 MiB the scrub backed first"), check.text());
    }

    @Test
    void scrubbedPagesCountedNeverBackedAreNotAllowedTwice() {
        // dense-2: the same 16 MiB counted never backed; reclaimed grew by the RSS drop.
        Check agrees =
                overTheScrub(doc(320.0, ZERO_AFTER_WITH_HUGE, 16 * MIB_PAGES, HUGE_ZERO_BEFORE - 16 * MIB_PAGES));
        assertTrue(agrees.held(), agrees.text());
        // Counted never backed and reclaimed as well: 16 MiB too much, 5.5 % beyond the drop.
        Check twice = overTheScrub(doc(335.9, ZERO_AFTER_WITH_HUGE, 16 * MIB_PAGES, HUGE_ZERO_BEFORE - 16 * MIB_PAGES));
        assertFalse(twice.held(), twice.text());
    }

    @Test
    void reclaimedBeyondTheDropWithNoPagesTheScrubBackedFirstFails() {
        Check check = overTheScrub(doc(335.9, ZERO_AFTER, 0, HUGE_ZERO_BEFORE));
        assertFalse(check.held(), check.text());
    }

    @Test
    void reclaimedShortOfTheDropFailsWhateverTheScrubBacked() {
        Check check = overTheScrub(doc(28.5 + 270.0, ZERO_AFTER_WITH_HUGE, 0, HUGE_ZERO_BEFORE - 16 * MIB_PAGES));
        assertFalse(check.held(), check.text());
    }
}
