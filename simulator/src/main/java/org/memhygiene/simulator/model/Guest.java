package org.memhygiene.simulator.model;

import org.memhygiene.simulator.scenario.GuestSpec;

/**
 * One simulated guest: its page range in the {@link HostModel} and the counters kept up to date by
 * every page operation (so a snapshot never walks the pages). Region boundaries are page indices
 * relative to {@link #base}.
 */
public final class Guest {
    public final int index;
    public final GuestSpec spec;
    public final int base;
    public final int pages;
    /**
     * Page classes in address order: [0, osEnd) OS image, then page cache, anon, zero, secret, the
     * content groups' pages up to usedEnd, then free memory.
     */
    public final int osEnd;

    public final int cacheEnd;
    public final int anonEnd;
    public final int zeroEnd;
    public final int secretEnd;
    /** End of the in-use memory (the content groups' pages end here); free memory follows. */
    public final int usedEnd;

    public final String uuid;
    public final int pid;

    public boolean running;
    /** Pages populated so far by the boot (pages at or past it are not present yet). */
    public int bootCursor;
    /** Next-fit cursor of the guest's page allocator over the free region. */
    public int allocCursor;

    // Counters, maintained by HostModel and Ksmd.
    public long presentPages;
    public long freePages;
    public long staleSecretFreePages;
    /**
     * Free pages from {@link #usedEnd} on, where the agent's scrub looks for free memory, and of those
     * the ones present with non-zero content (what a scrub would zero): kept by HostModel so that a
     * scrub with nothing to zero does not walk the free region page by page.
     */
    public long scrubRegionFreePages;
    /** Of {@link #scrubRegionFreePages}, those present with non-zero content. */
    public long scrubRegionDirtyPages;

    public long zeroMergedPages;
    /** ksm_merging_pages: rmap items on stable nodes (kernel accounting, lazy). */
    public long mergingPages;
    /** Pages really mapped to a KSM page now. */
    public long liveMergedPages;

    public long rmapItems;
    public long reportedPages;

    public Guest(int index, GuestSpec spec, int base, int pages, int[] regionEnds, String uuid, int pid) {
        this.index = index;
        this.spec = spec;
        this.base = base;
        this.pages = pages;
        this.osEnd = regionEnds[0];
        this.cacheEnd = regionEnds[1];
        this.anonEnd = regionEnds[2];
        this.zeroEnd = regionEnds[3];
        this.secretEnd = regionEnds[4];
        this.usedEnd = regionEnds[5];
        this.uuid = uuid;
        this.pid = pid;
    }

    public String name() {
        return spec.name();
    }

    /** Whether ksmd scans the guest: QEMU marks guest RAM MADV_MERGEABLE unless nosharepages. */
    public boolean mergeable() {
        return !spec.noSharePages();
    }
}
