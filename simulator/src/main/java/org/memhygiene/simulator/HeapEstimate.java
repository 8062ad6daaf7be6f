package org.memhygiene.simulator;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.simulator.ksm.SettledPages;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.scenario.ContentGroup;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.Scenario;

/**
 * The heap a scenario's simulation needs, from its size alone (docs/SIMULATOR.md, "Heap"): the page
 * arrays and the skipping engine's index per page, and the KSM tables per KSM page the scenario can
 * make (a bound: one per distinct shareable content, plus the dups max_page_sharing splits it into).
 *
 * @param pages          simulated pages
 * @param pageBytes      the page arrays and the scan engine's index
 * @param ksmPages       the bound on KSM pages (stable nodes)
 * @param ksmTableBytes  stable tree, its index and the unstable tree, sized for {@code ksmPages}, and
 *                       the chains' indexes for the dups among them
 */
public record HeapEstimate(long pages, long pageBytes, long ksmPages, long ksmTableBytes) {
    /** Per KSM page: a stable node (32 bytes) and its index slot (16) at worst just after a doubling, the unstable tree's entry (8, at most half full, doubling) and a free-list slot. */
    static final long BYTES_PER_KSM_PAGE = 2 * 32 + 4 * 16 + 4 * 8 + 8;
    /** Per dup of a chain, its entry in the chain's index (StableTree.Chain: a TreeMap entry, its boxed key and value). */
    static final long BYTES_PER_CHAIN_DUP = 80;
    /** The JVM, the classes, the parser, the snapshot: what a small scenario uses. */
    static final long BASE_BYTES = 64L << 20;

    public static HeapEstimate of(Scenario s) {
        long pageSize = s.host().pageSizeBytes();
        long pages = 0;
        long zeroPages = 0;
        // Per image, the most shareable pages one guest of it has: its guests hold the same contents.
        Map<String, Long> shareablePerImage = new HashMap<>();
        for (GuestSpec g : s.guests()) {
            long memoryPages = g.memoryBytes() / pageSize;
            pages += memoryPages;
            GuestSpec.Layout l = g.layout();
            GuestSpec.Portion freeZero = g.freeMemory().zero();
            long freePages = memoryPages - l.inUsePages();
            zeroPages +=
                    l.zeroPages() + (freeZero.exact() ? freeZero.pages() : Math.round(freePages * freeZero.fraction()));
            long shareable = Math.round(l.osImagePages() * g.sharing().osImage().of(l.osImagePages()))
                    + Math.round(l.secretPages() * g.sharing().secret().of(l.secretPages()))
                    // Page-cache churn reads files from a pool twice the page cache (Simulation.churn).
                    + (g.churn().pageCachePerSecond() > 0
                            ? 2L * l.pageCachePages()
                            : Math.round(
                                    l.pageCachePages() * g.sharing().pageCache().of(l.pageCachePages())));
            shareablePerImage.merge(g.image(), shareable, Math::max);
        }
        long maxSharing = Math.max(2, Long.parseLong(s.ksm().getOrDefault(KsmKnob.MAX_PAGE_SHARING, "256")));
        long dups = zeroPages / maxSharing + 1;
        for (ContentGroup c : s.contentGroups()) {
            dups += c.pages() / maxSharing;
        }
        long ksmPages = dups;
        for (long shareable : shareablePerImage.values()) {
            ksmPages += shareable;
        }
        for (ContentGroup c : s.contentGroups()) {
            ksmPages += c.contents();
        }
        ksmPages = Math.min(ksmPages, pages / 2 + 1);
        long pageBytes = (long) Math.ceil(pages * (HostModel.BYTES_PER_PAGE + SettledPages.BYTES_PER_PAGE));
        return new HeapEstimate(pages, pageBytes, ksmPages, ksmPages * BYTES_PER_KSM_PAGE + dups * BYTES_PER_CHAIN_DUP);
    }

    /** What one simulation holds at most. */
    public long bytes() {
        return pageBytes + ksmTableBytes;
    }

    /**
     * The -Xmx for {@code simulations} of it at once: their bytes, a quarter more for the collector to
     * work in, and the base.
     */
    public long maxHeapBytes(int simulations) {
        return bytes() * simulations * 5 / 4 + BASE_BYTES;
    }

    /** How the figure is made, for messages. */
    public String describe() {
        return String.format(
                Locale.ROOT,
                "%,d pages x %.1f bytes + up to %,d KSM pages x %d bytes = %d MiB",
                pages,
                HostModel.BYTES_PER_PAGE + SettledPages.BYTES_PER_PAGE,
                ksmPages,
                BYTES_PER_KSM_PAGE,
                bytes() >> 20);
    }
}
