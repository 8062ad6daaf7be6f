package org.memhygiene.controller.guestmemory;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.procmem.MemoryMapping;
import org.memhygiene.core.procmem.PagemapReader;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessMaps;
import org.memhygiene.core.procmem.ProcessStatus;
import org.memhygiene.core.procmem.SmapsEntry;
import org.memhygiene.core.procmem.Smaps;

/**
 * The incremental pass over one VM's guest RAM: each {@link #step} classifies at most the pages it is
 * given and stops; the pass resumes there at the next step and, when it has read the last page, checks
 * that the guest RAM mappings are still what it started on and publishes a {@link GuestMemory}. Where
 * pagemap cannot be used (not found, not readable, the process or its mappings changed under the pass),
 * the pass publishes a smaps_rollup measurement instead, with the reason, and charges the budget as if
 * it had read every page, so a fallback VM is measured no more often than others. Nothing escapes a
 * step but its result. Not thread-safe.
 */
final class GuestMemoryPass implements AutoCloseable {
    /** Shared by every pass of a monitor: the classifier (null when pagemap cannot work) and buffers. */
    record Tools(PageClassifier classifier, String unavailableReason, long[] entries, ByteBuffer pagemapScratch,
            Path procRoot, long pageSizeBytes, Clock clock, GuestRamLocator locator, ProcessKsmReader ksm) {
    }

    private static final GuestMemory.Pages NOT_MEASURED = new GuestMemory.Pages(OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());

    private final int pid;
    private final long ramBytes;
    private GuestRamLayout layout;
    private long[] regionFirstPage;
    private BitSet seen = new BitSet();
    private PagemapReader reader;
    private int region;
    private long nextAddress;
    private PageTally tally;
    private Instant startedAt;
    private long workNanos;
    private long pagesRead;
    private GuestMemory latest;

    GuestMemoryPass(int pid, long ramBytes) {
        this.pid = pid;
        this.ramBytes = ramBytes;
    }

    int pid() {
        return pid;
    }

    long ramBytes() {
        return ramBytes;
    }

    Optional<GuestMemory> latest() {
        return Optional.ofNullable(latest);
    }

    /** Pages the current pass has read so far. */
    long pagesRead() {
        return pagesRead;
    }

    /** Pages the current pass reads in all; 0 before guest RAM is found. */
    long pagesInPass(long pageSizeBytes) {
        return layout == null ? 0 : layout.pages(pageSizeBytes);
    }

    /**
     * Works until {@code budgetPages} are classified, {@code deadlineNanos} (System.nanoTime) passes or
     * the pass ends. Returns the budget used (a fallback measurement uses as much as a whole pass).
     * {@code true} in {@code completed[0]} when a pass ended in this step.
     */
    long step(long budgetPages, long deadlineNanos, Tools tools, boolean[] completed) {
        long start = System.nanoTime();
        long used = 0;
        try {
            if (tally == null) {
                String unavailable = begin(tools);
                if (unavailable != null) {
                    return fallback(unavailable, layout == null, tools, start, completed);
                }
            }
            long chunkNanos = 0;
            while (used < budgetPages && region < layout.regions().size()) {
                long now = System.nanoTime();
                // Stop where the next chunk, taking as long as the last, would end past the deadline.
                if (used > 0 && now + chunkNanos > deadlineNanos) {
                    break;
                }
                used += readChunk(budgetPages - used, tools);
                chunkNanos = System.nanoTime() - now;
            }
            if (region == layout.regions().size()) {
                finish(tools, start, completed);
            } else {
                workNanos += System.nanoTime() - start;
            }
            return used;
        } catch (PassFailure e) {
            return used + fallback(e.getMessage(), e.mappingChanged(), tools, start, completed);
        } catch (ProcMemException e) {
            return used + fallback(e.getMessage(), e.kind() == ProcMemException.Kind.GONE, tools, start, completed);
        } catch (RuntimeException e) {
            // A defect of ours must not cost the sample: say it, measure the fallback way.
            return used + fallback("unexpected " + e, true, tools, start, completed);
        }
    }

    /** Starts a pass; returns why pagemap cannot be used, or null. */
    private String begin(Tools tools) {
        if (tools.classifier() == null) {
            return tools.unavailableReason();
        }
        if (layout == null) {
            GuestRamLocator.Located located = tools.locator().locate(pid, ramBytes);
            if (located.layout().isEmpty()) {
                return "guest RAM not found: " + located.explanation();
            }
            useLayout(located.layout().get(), tools.pageSizeBytes());
        }
        if (reader == null) {
            reader = PagemapReader.open(tools.procRoot(), pid, tools.pageSizeBytes(), tools.pagemapScratch());
        }
        tally = new PageTally();
        region = 0;
        nextAddress = layout.regions().get(0).startAddress();
        startedAt = tools.clock().instant();
        workNanos = 0;
        pagesRead = 0;
        return null;
    }

    private void useLayout(GuestRamLayout newLayout, long pageSizeBytes) {
        long[] firstPages = new long[newLayout.regions().size()];
        long first = 0;
        for (int r = 0; r < firstPages.length; r++) {
            firstPages[r] = first;
            first += newLayout.regions().get(r).sizeBytes() / pageSizeBytes;
        }
        if (first > Integer.MAX_VALUE) {
            throw new PassFailure("guest RAM of " + first + " pages is more than one pass can index (2^31 pages)", true);
        }
        layout = newLayout;
        regionFirstPage = firstPages;
        seen = new BitSet((int) first);
    }

    /** Reads and classifies one chunk of the current region; returns the pages it covered. */
    private long readChunk(long budgetPages, Tools tools) {
        GuestRamRegion current = layout.regions().get(region);
        long page = tools.pageSizeBytes();
        int pmdPages = tools.classifier().pmdPages();
        long maxPages = Math.min(budgetPages, Math.min(tools.entries().length, PageClassifier.MAX_CHUNK_PAGES));
        long end = Math.min(current.endAddress(), nextAddress + maxPages * page);
        // Chunks end on huge-page boundaries, so that no huge page is split between two chunks (and counted
        // page by page): down to one if the budget allows, else up to the next one (a little over budget).
        long pmdBytes = pmdPages * page;
        if (end < current.endAddress()) {
            long down = end - Long.remainderUnsigned(end, pmdBytes);
            end = down > nextAddress ? down
                    : Math.min(current.endAddress(), nextAddress - Long.remainderUnsigned(nextAddress, pmdBytes) + pmdBytes);
        }
        int count = (int) ((end - nextAddress) / page);
        int read = reader.read(nextAddress, tools.entries(), 0, count);
        if (read < count) {
            throw new PassFailure(Files.isDirectory(tools.procRoot().resolve(Integer.toString(pid)))
                    ? "pagemap ended at 0x" + Long.toHexString(nextAddress + read * page) + ", inside guest RAM: its mapping changed during the pass"
                    : "process " + pid + " exited during the pass", true);
        }
        int seenIndex = (int) (regionFirstPage[region] + (nextAddress - current.startAddress()) / page);
        tools.classifier().classify(tools.entries(), count, nextAddress, current.shared(), tally, seen, seenIndex);
        pagesRead += count;
        nextAddress = end;
        if (nextAddress == current.endAddress()) {
            region++;
            if (region < layout.regions().size()) {
                nextAddress = layout.regions().get(region).startAddress();
            }
        }
        return count;
    }

    private void finish(Tools tools, long stepStartNanos, boolean[] completed) {
        List<MemoryMapping> maps = ProcessMaps.read(tools.procRoot(), pid);
        Optional<String> changed = GuestRamLocator.changes(layout, maps);
        if (changed.isPresent()) {
            throw new PassFailure(changed.get() + " during the pass", true);
        }
        if (tally.total() != layout.pages(tools.pageSizeBytes())) {
            throw new IllegalStateException("a pass counted " + tally.total() + " pages of " + layout.pages(tools.pageSizeBytes()));
        }
        boolean sharers = tools.classifier().countsSharers();
        latest = new GuestMemory(GuestMemory.Method.PAGEMAP,
                sharers ? Optional.empty() : Optional.of("KSM sharers unknown: /proc/kpagecount unreadable"),
                pid, tools.pageSizeBytes(), layout.pages(tools.pageSizeBytes()), tally.toPages(sharers),
                processRssPages(tools), startedAt, tools.clock().instant(), (workNanos + System.nanoTime() - stepStartNanos) / 1_000_000);
        tally = null;
        pagesRead = 0;
        completed[0] = true;
    }

    /**
     * Publishes a smaps_rollup measurement for {@code reason} and returns the budget it stands for: a
     * whole pass (none when nothing could be read). When the mappings changed or could not be found, the next pass looks for them again.
     */
    private long fallback(String reason, boolean forgetLayout, Tools tools, long startNanos, boolean[] completed) {
        long page = tools.pageSizeBytes();
        long guestRamPages = layout != null ? layout.pages(page) : ramBytes / page;
        if (forgetLayout) {
            closeReader();
            layout = null;
            seen = new BitSet();
        }
        tally = null;
        pagesRead = 0;
        completed[0] = true;
        Instant now = tools.clock().instant();
        String why = reason;
        GuestMemory.Method method = GuestMemory.Method.SMAPS_ROLLUP;
        GuestMemory.Pages pages = NOT_MEASURED;
        OptionalLong rss = OptionalLong.empty();
        if (!Files.isDirectory(tools.procRoot().resolve(Integer.toString(pid)))) {
            method = GuestMemory.Method.NONE;
            why = reason.contains("exited") ? reason : "process " + pid + " exited (" + reason + ")";
        } else {
            try {
                SmapsEntry rollup = Smaps.readRollup(tools.procRoot(), pid);
                Optional<ProcessKsmStat> ksm = tools.ksm().read(pid);
                pages = new GuestMemory.Pages(OptionalLong.empty(), inPages(rollup.anonHugePagesBytes(), page),
                        OptionalLong.empty(), ksm.map(ProcessKsmStat::mergingPages).orElse(OptionalLong.empty()),
                        OptionalLong.empty(), ksm.map(ProcessKsmStat::zeroPages).orElse(OptionalLong.empty()),
                        OptionalLong.empty(), inPages(rollup.swapBytes(), page), OptionalLong.empty(), OptionalLong.empty());
                rss = inPages(rollup.rssBytes(), page);
            } catch (ProcMemException e) {
                method = GuestMemory.Method.NONE;
                why = reason + "; smaps_rollup: " + e.getMessage();
            }
        }
        latest = new GuestMemory(method, Optional.of(why), pid, page, guestRamPages, pages, rss, now, now,
                (System.nanoTime() - startNanos) / 1_000_000);
        // smaps_rollup walks the page tables as a pass does: charge it as one, so it is read as rarely.
        return method == GuestMemory.Method.SMAPS_ROLLUP ? guestRamPages : 0;
    }

    private OptionalLong processRssPages(Tools tools) {
        try {
            return inPages(ProcessStatus.read(tools.procRoot(), Integer.toString(pid)).vmRssBytes(), tools.pageSizeBytes());
        } catch (ProcMemException e) {
            return OptionalLong.empty();
        }
    }

    private static OptionalLong inPages(OptionalLong bytes, long pageSizeBytes) {
        return bytes.isPresent() ? OptionalLong.of(bytes.getAsLong() / pageSizeBytes) : OptionalLong.empty();
    }

    private void closeReader() {
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }

    @Override
    public void close() {
        closeReader();
    }
}
