package org.memhygiene.simulator.hygiene;

import java.util.BitSet;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;

/**
 * What one guest does with the memory it frees, per its hygiene mode: init_on_free zeroes at once,
 * free page reporting hands aligned free blocks to the host after a delay, the agent scrubs free
 * memory above its headroom (periodically, after a large free, or when asked), none leaves it stale.
 */
public final class GuestHygiene {
    private final HostModel model;
    private final Guest guest;
    private final GuestSpec.Hygiene spec;
    private final long pageSizeBytes;
    /** Free page reporting: blocks (offset >> order) freed since the last report. */
    private final BitSet pendingBlocks = new BitSet();

    private long reportDueNanos = Long.MAX_VALUE;
    private long nextScrubNanos = Long.MAX_VALUE;
    private ScrubCounters counters = ScrubCounters.NONE;

    public GuestHygiene(HostModel model, Guest guest, long pageSizeBytes) {
        this.model = model;
        this.guest = guest;
        this.spec = guest.spec.hygiene();
        this.pageSizeBytes = pageSizeBytes;
    }

    public HygieneMode mode() {
        return spec.mode();
    }

    public ScrubCounters counters() {
        return counters;
    }

    /** The guest freed the page (already flagged FREE). */
    public void freed(int page, long nowNanos) {
        switch (spec.mode()) {
            case INIT_ON_FREE -> model.write(guest, page, Content.ZERO);
            case FREE_PAGE_REPORTING -> {
                pendingBlocks.set(
                        (page - guest.base) >>> spec.freePageReporting().order());
                if (reportDueNanos == Long.MAX_VALUE) {
                    reportDueNanos = nowNanos + spec.freePageReporting().delay().toNanos();
                }
            }
            default -> {}
        }
    }

    /** A free of {@code pages} pages at once ended: the agent's large-free trigger. */
    public void largeFree(long pages, long nowNanos) {
        if (spec.mode() == HygieneMode.AGENT_SCRUB
                && spec.scrub().largeFreeThresholdBytes() > 0
                && pages * pageSizeBytes >= spec.scrub().largeFreeThresholdBytes()) {
            scrub(spec.scrub().maxBytes() == 0 ? Long.MAX_VALUE : spec.scrub().maxBytes());
        }
    }

    /** The guest booted: periodic scrubs start. */
    public void booted(long nowNanos) {
        if (spec.mode() == HygieneMode.AGENT_SCRUB && !spec.scrub().interval().isZero()) {
            nextScrubNanos = nowNanos + spec.scrub().interval().toNanos();
        }
    }

    public void stopped() {
        pendingBlocks.clear();
        reportDueNanos = Long.MAX_VALUE;
        nextScrubNanos = Long.MAX_VALUE;
    }

    /** When {@link #tick} has work next. */
    public long nextDueNanos() {
        return Math.min(reportDueNanos, nextScrubNanos);
    }

    public void tick(long nowNanos) {
        if (nowNanos >= reportDueNanos) {
            reportDueNanos = Long.MAX_VALUE;
            report();
        }
        if (nowNanos >= nextScrubNanos) {
            nextScrubNanos = nowNanos + spec.scrub().interval().toNanos();
            scrub(spec.scrub().maxBytes() == 0 ? Long.MAX_VALUE : spec.scrub().maxBytes());
        }
    }

    /**
     * page_reporting: a pending block whose 2^order pages are all free goes to the host, which discards
     * it (the hypervisor's MADV_DONTNEED). Blocks with a page in use wait for the next free.
     */
    private void report() {
        int order = spec.freePageReporting().order();
        int blockPages = 1 << order;
        for (int b = pendingBlocks.nextSetBit(0); b >= 0; b = pendingBlocks.nextSetBit(b + 1)) {
            int start = guest.base + (b << order);
            int end = Math.min(start + blockPages, guest.base + guest.pages);
            boolean allFree = true;
            for (int p = start; p < end && allFree; p++) {
                allFree = (model.flags[p] & PageFlags.FREE) != 0;
            }
            if (allFree) {
                for (int p = start; p < end; p++) {
                    model.discard(guest, p, true);
                }
            }
        }
        pendingBlocks.clear();
    }

    /**
     * The agent's scrub (docs/SCRUBBING.md): zeroes up to {@code maxBytes} of free memory, leaving
     * max(min_headroom, headroom_percent of MemTotal) available. Modeled as zeroing the free pages
     * that hold stale data, at once; the report's duration is what the rate cap would take.
     */
    public ScrubReport scrub(long maxBytes) {
        if (spec.mode() == HygieneMode.INIT_ON_FREE) {
            ScrubReport r = new ScrubReport(
                    ScrubReport.Outcome.SKIPPED_INIT_ON_FREE,
                    "the guest kernel zeroes freed pages (init_on_free=1)",
                    0,
                    0,
                    0,
                    0,
                    0,
                    0);
            counters = counters.plus(r);
            return r;
        }
        long total = guest.spec.memoryBytes();
        long headroom =
                Math.max(spec.scrub().minHeadroomBytes(), total * spec.scrub().headroomPercent() / 100);
        long available = memAvailableBytes();
        long target = Math.max(0, Math.min(maxBytes, available - headroom));
        if (target == 0) {
            ScrubReport r = new ScrubReport(
                    ScrubReport.Outcome.SKIPPED_NOTHING_TO_DO,
                    "MemAvailable " + available + " bytes is within the headroom of " + headroom + " bytes",
                    0,
                    0,
                    0,
                    0,
                    0,
                    0);
            counters = counters.plus(r);
            return r;
        }
        long targetPages = target / pageSizeBytes;
        // The first targetPages free pages of the free region are zeroed (counted whether they held
        // data or not); the walk ends early once no page with data is left in the region.
        long passed = 0;
        for (int p = guest.base + guest.usedEnd, end = guest.base + guest.pages;
                p < end && passed < targetPages && guest.scrubRegionDirtyPages > 0;
                p++) {
            int f = model.flags[p];
            if ((f & PageFlags.FREE) != 0) {
                if ((f & PageFlags.PRESENT) != 0 && model.content[p] != Content.ZERO) {
                    model.write(guest, p, Content.ZERO);
                }
                passed++;
            }
        }
        long zeroed = Math.min(targetPages, guest.scrubRegionFreePages);
        long bytes = zeroed * pageSizeBytes;
        long millis = bytes * 1000 / spec.scrub().rateBytesPerSecond();
        ScrubReport r = new ScrubReport(
                ScrubReport.Outcome.COMPLETED,
                "",
                bytes,
                target,
                millis,
                millis == 0 ? bytes : bytes * 1000.0 / millis,
                (int) Math.min(Integer.MAX_VALUE, bytes >> 21),
                0);
        counters = counters.plus(r);
        return r;
    }

    /** The guest's MemAvailable: free memory plus page cache it could drop. */
    public long memAvailableBytes() {
        return (guest.freePages + (guest.running ? guest.cacheEnd - guest.osEnd : 0)) * pageSizeBytes;
    }
}
