package org.memhygiene.simulator.ksm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * ksmd as mm/ksm.c (Linux 6.12+) runs it: each wake scans pages_to_scan pages (ksm_do_scan) along a
 * cursor over the mergeable guests in mm_slot order and their pages in address order
 * (scan_get_next_rmap_item), then sleeps sleep_millisecs. Per page it does what cmp_and_merge_page
 * does: a page still mapped to its KSM page is left alone; otherwise its rmap item leaves the trees,
 * the checksum gate sends a page whose content changed since the last visit away, zero pages go to the
 * zero page with use_zero_pages, then the stable tree (max_page_sharing, chains of dups) and the
 * unstable tree (thrown away at every full scan) are searched. See docs/SIMULATOR.md for the rules
 * and where the model simplifies.
 */
public final class Ksmd {
    private final HostModel model;
    private final KsmKnobs knobs;
    private final UnstableTree unstable;
    /** Whether this scan's trees are kept per NUMA node (merge_across_nodes=0): set at each scan start. */
    private boolean treesPerNode;
    /** mm_slots in scan order (ksm_mm_head's list). */
    private final List<Guest> slots = new ArrayList<>();
    /** Index into {@link #slots} of the guest being scanned; -1 is ksm_mm_head (a scan starts next). */
    private int cursorSlot = -1;

    private int cursorPage;

    private long seqnr;
    private long pagesScanned;
    private long pagesSkipped;
    private long pagesUnshared;
    private long rmapItems;
    private long cpuNanos;
    private long pagesVisited;
    private final double nanosPerPage;

    /**
     * The page whose searches {@link #searchAndFile} did and found a partner in (a stable node, or a twin
     * in the unstable tree): its real visit, next in the same wake, takes them instead of searching again.
     */
    private int searchedPage = -1;

    private int searchedNode;
    private int searchedTwin;

    /** The skipping engine's index of settled pages; null with the page-by-page engine. */
    private final SettledPages settled;

    public Ksmd(HostModel model, KsmKnobs knobs, double nanosPerScannedPage, ScanEngine engine) {
        this.model = model;
        this.knobs = knobs;
        this.unstable = new UnstableTree(model);
        this.nanosPerPage = nanosPerScannedPage;
        this.settled = engine == ScanEngine.SKIP_SETTLED ? new SettledPages(model, this, knobs.smartScan()) : null;
        model.settled = settled;
    }

    public ScanEngine engine() {
        return settled != null ? ScanEngine.SKIP_SETTLED : ScanEngine.PAGE_BY_PAGE;
    }

    /** The full scan (seqnr) in which ksmd last passed the page at {@code offset} of {@code g}. */
    long lastPass(Guest g, int offset) {
        if (cursorSlot < 0) {
            return seqnr - 1;
        }
        int index = slots.indexOf(g);
        boolean passed = index < cursorSlot || index == cursorSlot && offset < cursorPage;
        return passed ? seqnr : seqnr - 1;
    }

    /**
     * Brings every page's flags and age up to date (the skipping engine keeps some lazily): what the
     * page-by-page engine would hold now. For tests that compare the two page by page.
     */
    public void settle() {
        if (settled != null) {
            settled.evictAll();
        }
    }

    public KsmKnobs knobs() {
        return knobs;
    }

    /**
     * A guest's QEMU marked its RAM mergeable: __ksm_enter puts the mm_slot just behind the scan
     * cursor, so it is scanned last in the current round.
     */
    public void enter(Guest g) {
        if (cursorSlot < 0) {
            slots.add(g);
        } else {
            slots.add(cursorSlot, g);
            cursorSlot++;
        }
    }

    /** The guest's QEMU exited: every rmap item goes (ksm_exit), its pages leave the host. */
    public void exit(Guest g) {
        if (settled != null) {
            settled.evictGuest(g);
        }
        int index = slots.indexOf(g);
        for (int p = g.base, end = g.base + g.pages; p < end; p++) {
            if ((model.flags[p] & PageFlags.RMAP) != 0) {
                dropRmap(g, p);
            }
            model.discard(g, p, false);
        }
        if (index >= 0) {
            slots.remove(index);
            if (cursorSlot > index) {
                cursorSlot--;
            } else if (cursorSlot == index) {
                cursorPage = 0;
                if (cursorSlot == slots.size()) {
                    endOfScan();
                }
            }
        }
    }

    /**
     * One wake of ksmd: ksm_do_scan(pages_to_scan). Returns the CPU time it took (pages scanned times
     * the calibrated cost per page).
     */
    public long wake() {
        searchedPage = -1;
        long budget = knobs.pagesToScan();
        long scanned = 0;
        boolean smart = knobs.smartScan();
        boolean useZero = knobs.useZeroPages();
        boolean perNode = !knobs.mergeAcrossNodes();
        int maxSharing = knobs.maxPageSharing();
        if (settled != null && smart != settled.smart) {
            settled.evictAll(); // skip schedules were filed under the other smart_scan setting
            settled.smart = smart;
        }
        while (scanned < budget) {
            if (cursorSlot < 0) {
                if (slots.isEmpty()) {
                    break;
                }
                treesPerNode = perNode;
                unstable.clear();
                cursorSlot = 0;
                cursorPage = 0;
            }
            Guest g = slots.get(cursorSlot);
            int numaKey = perNode ? g.spec.numaNode() : 0;
            int parity = (seqnr & 1) == 1 ? PageFlags.UNSTABLE_ODD : 0;
            while (cursorPage < g.pages && scanned < budget) {
                if (settled != null) {
                    int from = cursorPage;
                    cursorPage = settled.pass(g, from, budget - scanned, seqnr, smart, useZero);
                    pagesVisited += cursorPage - from;
                    scanned += settled.passedScanned;
                    pagesScanned += settled.passedScanned;
                    pagesSkipped += settled.passedSkipped;
                    pagesUnshared += settled.passedUnsharedDelta;
                    rmapItems += settled.passedRmapItemsDelta;
                    if (cursorPage >= g.pages || scanned >= budget) {
                        continue;
                    }
                    settled.evict(g, cursorPage, seqnr - 1); // a page for real work: not passed in this scan yet
                }
                int p = g.base + cursorPage++;
                pagesVisited++;
                if (visit(g, p, smart, useZero, numaKey, maxSharing, parity)) {
                    scanned++;
                    pagesScanned++;
                }
                if (settled != null) {
                    settled.classify(g, p, seqnr, smart);
                }
            }
            if (cursorPage >= g.pages) {
                cursorSlot++;
                cursorPage = 0;
                if (cursorSlot >= slots.size()) {
                    endOfScan();
                    break;
                }
            }
        }
        long cost = Math.round(scanned * nanosPerPage);
        cpuNanos += cost;
        return cost;
    }

    /**
     * ksmd's visit of one page (scan_get_next_rmap_item, then should_skip_rmap_item and
     * cmp_and_merge_page); true when it counts as scanned.
     */
    private boolean visit(Guest g, int p, boolean smart, boolean useZero, int numaKey, int maxSharing, int parity) {
        byte[] flags = model.flags;
        int f = flags[p];
        if ((f & PageFlags.PRESENT) == 0 || (f & PageFlags.ZERO_MERGED) != 0) {
            // Not an anon page (absent, or the zero page): not returned; get_next_rmap_item
            // frees the rmap item it passes over.
            if ((f & PageFlags.RMAP) != 0) {
                dropRmap(g, p);
            }
            return false;
        }
        if ((f & PageFlags.RMAP) == 0) {
            f |= PageFlags.RMAP;
            flags[p] = (byte) f;
            model.slot[p] = Content.NO_CHECKSUM;
            model.age[p] = 0;
            g.rmapItems++;
            rmapItems++;
        }
        if (smart && shouldSkip(g, p, f)) {
            pagesSkipped++;
            return false;
        }
        cmpAndMerge(g, p, useZero, numaKey, maxSharing, parity);
        return true;
    }

    private void endOfScan() {
        // scan_get_next_rmap_item returns NULL at the end of the list: ksm_do_scan ends this batch.
        cursorSlot = -1;
        cursorPage = 0;
        seqnr++;
    }

    /** should_skip_rmap_item: pages that keep failing to merge are skipped 1, 2, 4, then 8 scans. */
    private boolean shouldSkip(Guest g, int p, int f) {
        if ((f & PageFlags.STABLE) != 0 && (f & PageFlags.BROKEN) == 0) {
            return false; // folio_test_ksm
        }
        int a = model.age[p];
        int age = a & 0x0F;
        int remaining = (a >>> 4) & 0x0F;
        int newAge = age == 15 ? 15 : age + 1;
        if (age < 3) {
            model.age[p] = (byte) (remaining << 4 | newAge);
            return false;
        }
        if (remaining == 0) {
            model.age[p] = (byte) (skipAge(age) << 4 | newAge);
            return false;
        }
        model.age[p] = (byte) ((remaining - 1) << 4 | newAge);
        removeFromTree(g, p);
        return true;
    }

    /** The kernel saturates age at 255; past 8 every age skips 8 scans, so 15 stands for all of them. */
    static int skipAge(int age) {
        if (age <= 3) {
            return 1;
        }
        if (age <= 5) {
            return 2;
        }
        if (age <= 8) {
            return 4;
        }
        return 8;
    }

    private void cmpAndMerge(Guest g, int p, boolean useZero, int numaKey, int maxSharing, int parity) {
        byte[] flags = model.flags;
        int f = flags[p];
        if ((f & PageFlags.STABLE) != 0 && (f & PageFlags.BROKEN) == 0) {
            return; // still mapped to its KSM page: rmap_item->head == stable_node
        }
        removeFromTree(g, p);
        int c = model.content[p];
        if (model.slot[p] != c) {
            model.slot[p] = c; // checksum changed since the last visit: volatile, try next time
            return;
        }
        if (useZero && c == Content.ZERO) {
            flags[p] = (byte) (flags[p] | PageFlags.ZERO_MERGED);
            model.ksmZeroPages++;
            g.zeroMergedPages++;
            return;
        }
        if (Content.isUnique(c)) {
            // Nothing else holds this content: the stable search fails and the page joins the unstable
            // tree, where no later page will look for it. Same counters, without the two searches.
            flags[p] = (byte) ((flags[p] & ~PageFlags.UNSTABLE_ODD) | PageFlags.UNSTABLE | parity);
            pagesUnshared++;
            return;
        }
        StableTree stable = model.stable;
        boolean searched = searchedPage == p;
        searchedPage = -1;
        int node = searched ? searchedNode : stable.findCandidate(c, numaKey, maxSharing);
        if (node >= 0) {
            appendStable(g, p, node);
            return;
        }
        int q = searched ? searchedTwin : unstable.searchInsert(p, c, numaKey, parity);
        if (q < 0) {
            flags[p] = (byte) ((flags[p] & ~PageFlags.UNSTABLE_ODD) | PageFlags.UNSTABLE | parity);
            pagesUnshared++;
            return;
        }
        Guest other = model.guestOf(q);
        if (settled != null) {
            settled.evict(other, q - other.base, seqnr); // filed in this scan's tree, so passed in this scan
        }
        removeFromTree(other, q);
        node = stable.insert(c, numaKey);
        appendStable(other, q, node);
        appendStable(g, p, node);
        if (settled != null) {
            // Mapped to the new KSM page, its age up to date: its next visit changes nothing (mapped).
            settled.classify(other, q, seqnr, knobs.smartScan());
        }
    }

    /** The NUMA node key of the guest's pages in the trees of this scan (0 with merge_across_nodes=1). */
    int numaKey(Guest g) {
        return treesPerNode ? g.spec.numaNode() : 0;
    }

    /**
     * cmp_and_merge_page for a page that is not in the stable tree and whose checksum is unchanged, as
     * far as it goes without merging: if both tree searches fail, the page is filed in the unstable
     * tree (its UNSTABLE flag set for this scan, so that later searches find it) and this returns true;
     * if one would merge, it leaves the page as it is and returns false, for the real visit to do with
     * what the searches found (the stable search's pruning of dead dups is done, once, as that visit
     * would do it). The caller keeps pages_unshared, and has mapped a zero page to the zero page itself
     * when use_zero_pages is on (SettledPages), so that no zero page is searched for then.
     */
    boolean searchAndFile(int p, int numaKey, int parity) {
        int c = model.content[p];
        int node = model.stable.findCandidate(c, numaKey, knobs.maxPageSharing());
        int twin = node >= 0 ? -1 : unstable.searchInsert(p, c, numaKey, parity);
        if (node >= 0 || twin >= 0) {
            // The real visit comes next in this wake, with both trees as they are now.
            searchedPage = p;
            searchedNode = node;
            searchedTwin = twin;
            return false;
        }
        model.flags[p] = (byte) ((model.flags[p] & ~PageFlags.UNSTABLE_ODD) | PageFlags.UNSTABLE | parity);
        return true;
    }

    /**
     * The rest of the visit of page {@code p} after {@link #searchAndFile} found a KSM page for it in the
     * stable tree: the page merges into it (its rmap item joins the stable node) and this returns true.
     * False when that search found nothing or only a twin in the unstable tree (merging two pages into a
     * new KSM page is left to the real visit). The caller has taken the page out of the unstable tree
     * and keeps its age, as the visit's remove_rmap_item_from_tree and should_skip_rmap_item would.
     */
    boolean mergeIntoStable(Guest g, int p) {
        if (searchedPage != p || searchedNode < 0) {
            return false;
        }
        searchedPage = -1;
        appendStable(g, p, searchedNode);
        return true;
    }

    private void appendStable(Guest g, int p, int node) {
        model.stable.append(node, g.index);
        model.flags[p] = (byte) ((model.flags[p] & ~(PageFlags.BROKEN | PageFlags.UNSTABLE | PageFlags.UNSTABLE_ODD))
                | PageFlags.STABLE);
        model.slot[p] = node;
        g.mergingPages++;
        g.liveMergedPages++;
    }

    /** remove_rmap_item_from_tree of a page in the stable tree that the guest wrote since (SettledPages). */
    void leaveStable(Guest g, int p) {
        removeFromTree(g, p);
    }

    /** remove_rmap_item_from_tree. */
    private void removeFromTree(Guest g, int p) {
        int f = model.flags[p];
        if ((f & PageFlags.STABLE) != 0) {
            int node = model.slot[p];
            boolean mapped = (f & PageFlags.BROKEN) == 0;
            // The item's old checksum is what the page held when it merged: the node's content.
            model.slot[p] = model.stable.content(node);
            model.stable.removeRmap(node, g.index, mapped);
            g.mergingPages--;
            if (mapped) {
                g.liveMergedPages--;
            }
            model.flags[p] = (byte) (f & ~(PageFlags.STABLE | PageFlags.BROKEN));
        } else if ((f & PageFlags.UNSTABLE) != 0) {
            pagesUnshared--;
            model.flags[p] = (byte) (f & ~(PageFlags.UNSTABLE | PageFlags.UNSTABLE_ODD));
        }
    }

    private void dropRmap(Guest g, int p) {
        int f = model.flags[p];
        if ((f & PageFlags.STABLE) != 0 && (f & PageFlags.BROKEN) == 0) {
            // Still mapped (VM exit, run=2): unmap it from the KSM page first.
            model.stable.breakMapping(model.slot[p], g.index);
            g.liveMergedPages--;
            model.flags[p] = (byte) (f | PageFlags.BROKEN);
        }
        removeFromTree(g, p);
        model.flags[p] = (byte) (model.flags[p] & ~PageFlags.RMAP);
        g.rmapItems--;
        rmapItems--;
    }

    /**
     * run=2: unmerge_and_remove_all_rmap_items: every KSM page and KSM zero page is broken into a private
     * copy, every rmap item goes, the next scan starts from the beginning.
     */
    public void unmergeAll() {
        settle();
        for (Guest g : model.guests) {
            for (int p = g.base, end = g.base + g.pages; p < end; p++) {
                int f = model.flags[p];
                if ((f & PageFlags.ZERO_MERGED) != 0) {
                    model.flags[p] = (byte) (f & ~PageFlags.ZERO_MERGED);
                    model.ksmZeroPages--;
                    g.zeroMergedPages--;
                }
                if ((model.flags[p] & PageFlags.RMAP) != 0) {
                    dropRmap(g, p);
                }
            }
        }
        cursorSlot = -1;
        cursorPage = 0;
    }

    /** Applies knobs like sysfs does (see {@link KsmKnobs#apply}). */
    public List<KsmChange> apply(KsmSettings settings) {
        return knobs.apply(settings, () -> model.stable.pagesShared, this::unmergeAll);
    }

    public long fullScans() {
        return seqnr;
    }

    public long pagesScanned() {
        return pagesScanned;
    }

    /** Every page the cursor passed: scanned, skipped, or absent/zero-mapped (the simulator's work). */
    public long pagesVisited() {
        return pagesVisited;
    }

    /** Rmap items now: pages ksmd has met and holds a checksum or a tree place for. */
    public long rmapItems() {
        return rmapItems;
    }

    public long cpuNanos() {
        return cpuNanos;
    }

    /** /sys/kernel/mm/ksm as the kernel would show it now. */
    public KsmStats stats(long pageSizeBytes) {
        StableTree s = model.stable;
        long volatilePages = rmapItems - s.pagesShared - s.pagesSharing - pagesUnshared;
        long profit = (s.pagesSharing + model.ksmZeroPages) * pageSizeBytes - rmapItems * KsmSavings.RMAP_ITEM_BYTES;
        return new KsmStats(
                OptionalLong.of(s.pagesShared),
                OptionalLong.of(s.pagesSharing),
                OptionalLong.of(pagesUnshared),
                OptionalLong.of(volatilePages),
                OptionalLong.of(pagesScanned),
                OptionalLong.of(pagesSkipped),
                OptionalLong.of(seqnr),
                OptionalLong.of(model.ksmZeroPages),
                OptionalLong.of(profit),
                OptionalLong.of(s.chains),
                OptionalLong.of(s.chainDups),
                n(KsmKnob.RUN),
                n(KsmKnob.PAGES_TO_SCAN),
                n(KsmKnob.SLEEP_MILLISECS),
                n(KsmKnob.MAX_PAGE_SHARING),
                n(KsmKnob.MERGE_ACROSS_NODES),
                n(KsmKnob.USE_ZERO_PAGES),
                n(KsmKnob.SMART_SCAN),
                n(KsmKnob.STABLE_NODE_CHAINS_PRUNE_MILLISECS),
                Optional.of(knobs.text(KsmKnob.ADVISOR_MODE)),
                n(KsmKnob.ADVISOR_MAX_CPU),
                n(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN),
                n(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN),
                n(KsmKnob.ADVISOR_TARGET_SCAN_TIME),
                Map.of(),
                Map.of());
    }

    private OptionalLong n(KsmKnob knob) {
        return OptionalLong.of(knobs.number(knob));
    }
}
