package org.memhygiene.simulator.model;

/** Bits of {@link HostModel#flags}: one byte per simulated page. */
public final class PageFlags {
    /** The host has a page behind this guest page (the guest touched it; not discarded). */
    public static final int PRESENT = 1;
    /** ksmd has a ksm_rmap_item for the page (it visited it while present). */
    public static final int RMAP = 2;
    /** The rmap item hangs on a stable node ({@link HostModel#slot} holds the node). */
    public static final int STABLE = 4;
    /** Mapped to the kernel's zero page by use_zero_pages (counted in ksm_zero_pages). */
    public static final int ZERO_MERGED = 8;
    /** The rmap item is in the unstable tree (counted in pages_unshared). */
    public static final int UNSTABLE = 16;
    /** Parity of the scan (ksm_scan.seqnr) that put the item in the unstable tree. */
    public static final int UNSTABLE_ODD = 32;
    /**
     * STABLE, but the guest wrote the page (copy on write) or the host discarded it: the rmap item still
     * hangs on the node, as in the kernel, until ksmd visits the page again.
     */
    public static final int BROKEN = 64;
    /** The guest's allocator holds the page as free. */
    public static final int FREE = 128;

    private PageFlags() {}
}
