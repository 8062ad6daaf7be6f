package org.memhygiene.simulator;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.simulator.ksm.ContentTable;
import org.memhygiene.simulator.ksm.SettledPages;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.scenario.ContentGroup;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.Scenario;

/**
 * The heap a scenario's simulation needs, from its size alone (docs/SIMULATOR.md, "Heap"): the page
 * arrays and the skipping engine's index per page, the KSM tables per KSM page the scenario can make
 * (a bound: one per distinct shareable content, plus the dups max_page_sharing splits it into), and
 * the two trees' content tables per content id ksmd can search for.
 *
 * @param pages          simulated pages
 * @param pageBytes      the page arrays and the scan engine's index
 * @param ksmPages       the bound on KSM pages (stable nodes)
 * @param ksmTableBytes  the stable tree's nodes for {@code ksmPages}, the chains' indexes for the dups
 *                       among them, and both trees' content tables
 */
public record HeapEstimate(long pages, long pageBytes, long ksmPages, long ksmTableBytes) {
    /** Per KSM page: a stable node (32 bytes) at worst just after a doubling, and a free-list slot. */
    static final long BYTES_PER_KSM_PAGE = 2 * 32 + 8;
    /** Per dup of a chain, its entry in the chain's index (StableTree.Chain: a TreeMap entry, its boxed key and value). */
    static final long BYTES_PER_CHAIN_DUP = 80;
    /** The JVM, the classes, the parser, the snapshot: what a small scenario uses. */
    static final long BASE_BYTES = 64L << 20;

    public static HeapEstimate of(Scenario s) {
        long pageSize = s.host().pageSizeBytes();
        long pages = 0;
        long zeroPages = 0;
        // Per image, the most shareable pages one guest of it has: its guests hold the same contents. And
        // the ids its shared contents are numbered by (a page's offset in its class: shared or not).
        Map<String, Long> shareablePerImage = new HashMap<>();
        Map<String, Long> idsPerImage = new HashMap<>();
        Set<Integer> numaNodes = new HashSet<>();
        // A churn event may start page-cache churn in a guest that had none (a bound: any such event).
        boolean eventsChurnPageCache = s.events().stream()
                .anyMatch(e -> e.churn().map(c -> c.pageCachePerSecond() > 0).orElse(false));
        for (GuestSpec g : s.guests()) {
            boolean pageCacheChurns = g.churn().pageCachePerSecond() > 0 || eventsChurnPageCache;
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
                    + (pageCacheChurns
                            ? 2L * l.pageCachePages()
                            : Math.round(
                                    l.pageCachePages() * g.sharing().pageCache().of(l.pageCachePages())));
            shareablePerImage.merge(g.image(), shareable, Math::max);
            long pageCacheIds = pageCacheChurns ? 2L * l.pageCachePages() : l.pageCachePages();
            idsPerImage.merge(
                    g.image(),
                    l.osImagePages() + pageCacheIds + l.secretPages() + 3 * ContentTable.CHUNK_CONTENTS,
                    Math::max);
            numaNodes.add(g.numaNode());
        }
        // Per content id ksmd can search for, its two columns in the trees' ContentTable; a chunk of it is
        // made whole for its first id: one more chunk per range of ids.
        long searchableIds = ContentTable.CHUNK_CONTENTS; // the zero page's content
        for (long ids : idsPerImage.values()) {
            searchableIds += ids;
        }
        for (ContentGroup c : s.contentGroups()) {
            searchableIds +=
                    c.contents() + ContentTable.CHUNK_CONTENTS * (c.contents() / (Content.MAX_SHARED_INDEX + 1) + 1);
        }
        // merge_across_nodes=0: a tree per NUMA node, each with tables over the same ids.
        if (s.ksm().getOrDefault(KsmKnob.MERGE_ACROSS_NODES, "1").equals("0")) {
            searchableIds *= numaNodes.size();
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
        return new HeapEstimate(
                pages,
                pageBytes,
                ksmPages,
                ksmPages * BYTES_PER_KSM_PAGE
                        + dups * BYTES_PER_CHAIN_DUP
                        + searchableIds * ContentTable.BYTES_PER_CONTENT);
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
                "%,d pages x %.1f bytes + up to %,d KSM pages and their tables, %d MiB = %d MiB",
                pages,
                HostModel.BYTES_PER_PAGE + SettledPages.BYTES_PER_PAGE,
                ksmPages,
                ksmTableBytes >> 20,
                bytes() >> 20);
    }
}
