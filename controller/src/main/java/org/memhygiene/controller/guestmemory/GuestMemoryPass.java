package org.memhygiene.controller.guestmemory;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.procmem.MemoryMapping;
import org.memhygiene.core.procmem.PagemapReader;
import org.memhygiene.core.procmem.PagemapScanner;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessMaps;
import org.memhygiene.core.procmem.ProcessStatus;
import org.memhygiene.core.procmem.Smaps;
import org.memhygiene.core.procmem.SmapsEntry;

/**
 * The incremental pass over one VM's guest RAM: each {@link #step} walks at most the pages it is given
 * and stops; the pass resumes there at the next step and, when it has covered the last page, checks that
 * the guest RAM mappings are still what it started on and publishes a {@link GuestMemory}. Where no page
 * method can be used (not found, not readable, the process or its mappings changed under the pass), the
 * pass publishes a smaps_rollup measurement instead, with the reason, and charges the budget as if it had
 * read every page, so a fallback VM is measured no more often than others. Nothing escapes a step but
 * its result. Not thread-safe.
 */
final class GuestMemoryPass implements AutoCloseable {
    /**
     * Shared by every pass of a monitor: how pages are read and the buffers. {@code scan}: PAGEMAP_SCAN
     * walks the pages; {@code classifier} (null without page frames) classifies pagemap entries with
     * kpageflags — every page without {@code scan}, only the present small pages of private mappings with it.
     */
    record Tools(
            boolean scan,
            PageClassifier classifier,
            String unavailableReason,
            long[] entries,
            ByteBuffer pagemapScratch,
            PagemapScanner.Regions regions,
            Path procRoot,
            long pageSizeBytes,
            int pmdPages,
            Clock clock,
            GuestRamLocator locator,
            ProcessKsmReader ksm) {

        boolean usable() {
            return unavailableReason == null && (scan || classifier != null);
        }

        GuestMemory.Method method() {
            if (!scan) {
                return GuestMemory.Method.PAGEMAP;
            }
            return classifier != null ? GuestMemory.Method.PAGEMAP_SCAN_KPAGEFLAGS : GuestMemory.Method.PAGEMAP_SCAN;
        }
    }

    /**
     * Pages PAGEMAP_SCAN walks per call (256 MiB of 4 KiB pages): 0.6-1.4 ms of the kernel's time for small
     * pages, 13 µs for huge ones; each call also costs tens of µs of its own, 2-4 ns a page at 16 Ki pages.
     */
    static final int SCAN_CHUNK_PAGES = 65536;

    private static final GuestMemory.Pages NOT_MEASURED = new GuestMemory.Pages(
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty());

    private final int pid;
    private final long ramBytes;
    private GuestRamLayout layout;
    private long[] regionFirstPage;
    /** Per region: whether its huge pages are HugeTLB ones (hugetlbfs), learnt from smaps once; null until asked. */
    private Boolean[] hugetlbRegion;

    private PageBits seen = new PageBits(0);
    private PagemapReader reader;
    private PagemapScanner scanner;
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

    /** Whether a pass has read pages and not ended yet. */
    boolean underWay() {
        return tally != null;
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
     * Works until {@code budgetPages} are walked, {@code deadlineNanos} (System.nanoTime) passes or the
     * pass ends. Returns the budget used (a fallback measurement uses as much as a whole pass).
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
                used += tools.scan() ? scanChunk(budgetPages - used, tools) : readChunk(budgetPages - used, tools);
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
            boolean gone = e.kind() == ProcMemException.Kind.GONE;
            return used
                    + fallback(
                            gone && tally != null ? "process " + pid + " exited during the pass" : e.getMessage(),
                            gone,
                            tools,
                            start,
                            completed);
        } catch (RuntimeException e) {
            // A defect of ours must not cost the sample: say it, measure the fallback way.
            return used + fallback("unexpected " + e, true, tools, start, completed);
        }
    }

    /** Starts a pass; returns why no page method can be used, or null. */
    private String begin(Tools tools) {
        if (!tools.usable()) {
            return tools.unavailableReason();
        }
        if (layout == null) {
            GuestRamLocator.Located located = tools.locator().locate(pid, ramBytes);
            if (located.layout().isEmpty()) {
                return "guest RAM not found: " + located.explanation();
            }
            useLayout(located.layout().get(), tools.pageSizeBytes());
        }
        if (tools.scan() && scanner == null) {
            scanner = PagemapScanner.open(tools.procRoot(), pid);
        }
        if (tools.classifier() != null && reader == null) {
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
            throw new PassFailure(
                    "guest RAM of " + first + " pages is more than one pass can index (2^31 pages)", true);
        }
        layout = newLayout;
        regionFirstPage = firstPages;
        hugetlbRegion = new Boolean[firstPages.length];
        seen = new PageBits((int) first);
    }

    /** Reads and classifies one chunk of the current region's pagemap entries; returns the pages it covered. */
    private long readChunk(long budgetPages, Tools tools) {
        GuestRamRegion current = layout.regions().get(region);
        long page = tools.pageSizeBytes();
        int pmdPages = tools.pmdPages();
        long maxPages = Math.min(budgetPages, Math.min(tools.entries().length, PageClassifier.MAX_CHUNK_PAGES));
        long end = Math.min(current.endAddress(), nextAddress + maxPages * page);
        // Chunks end on huge-page boundaries, so that no huge page is split between two chunks (and counted
        // page by page): down to one if the budget allows, else up to the next one (a little over budget).
        long pmdBytes = pmdPages * page;
        if (end < current.endAddress()) {
            long down = end - Long.remainderUnsigned(end, pmdBytes);
            end = down > nextAddress
                    ? down
                    : Math.min(
                            current.endAddress(),
                            nextAddress - Long.remainderUnsigned(nextAddress, pmdBytes) + pmdBytes);
        }
        classifyEntries(nextAddress, end, current, tools);
        return advance(end, tools);
    }

    /** Reads the pagemap entries of {@code [from, to)} and classifies them with kpageflags. */
    private void classifyEntries(long from, long to, GuestRamRegion current, Tools tools) {
        long page = tools.pageSizeBytes();
        int chunk = Math.min(tools.entries().length, PageClassifier.MAX_CHUNK_PAGES);
        for (long address = from; address < to; address += (long) chunk * page) {
            int count = (int) Math.min(chunk, (to - address) / page);
            int read = reader.read(address, tools.entries(), 0, count);
            if (read < count) {
                throw mappingGone(address + read * page, tools);
            }
            tools.classifier()
                    .classify(tools.entries(), count, address, current.shared(), tally, seen, seenIndex(address, page));
        }
    }

    /**
     * Walks one chunk of the current region with PAGEMAP_SCAN and tallies its runs of pages; returns the
     * pages it covered (the walk stops early when the region buffer fills).
     */
    private long scanChunk(long budgetPages, Tools tools) {
        GuestRamRegion current = layout.regions().get(region);
        long page = tools.pageSizeBytes();
        long end = Math.min(current.endAddress(), nextAddress + Math.min(budgetPages, SCAN_CHUNK_PAGES) * page);
        PagemapScanner.Regions runs = tools.regions();
        long walkEnd = scanner.scan(nextAddress, end, runs);
        long expected = nextAddress;
        for (int i = 0; i < runs.count(); i++) {
            if (runs.start(i) != expected) {
                throw mappingGone(expected, tools);
            }
            tallyRun(runs.start(i), runs.end(i), runs.categories(i), current, tools);
            expected = runs.end(i);
        }
        if (expected != walkEnd || walkEnd <= nextAddress) {
            // A stretch with no region: no mapping covers it any more.
            throw mappingGone(expected, tools);
        }
        return advance(walkEnd, tools);
    }

    /** One run of pages alike, as PAGEMAP_SCAN reported it. */
    private void tallyRun(long from, long to, long categories, GuestRamRegion current, Tools tools) {
        long page = tools.pageSizeBytes();
        int first = seenIndex(from, page);
        int count = (int) ((to - from) / page);
        boolean present = (categories & PagemapScanner.PAGE_IS_PRESENT) != 0;
        boolean huge = (categories & PagemapScanner.PAGE_IS_HUGE) != 0;
        if (present && (categories & PagemapScanner.PAGE_IS_PFNZERO) != 0) {
            if (huge) {
                tally.hugeZero += count;
            } else {
                tally.zero(seen, first, count);
            }
        } else if (present && huge) {
            tally.resident += count;
            if (hugetlb(current, tools)) {
                tally.hugetlb += count;
            } else {
                tally.thp += count;
            }
            seen.set(first, first + count);
        } else if (present) {
            if (tools.classifier() != null && !current.shared()) {
                // Private small pages: only these can be KSM pages; kpageflags tells (and kpagecount by how many).
                classifyEntries(from, to, current, tools);
            } else {
                tally.resident += count;
                seen.set(first, first + count);
            }
        } else if ((categories & PagemapScanner.PAGE_IS_SWAPPED) != 0) {
            tally.swapped += count;
            seen.set(first, first + count);
        } else {
            tally.notPresent += count;
            tally.givenBack += seen.count(first, first + count);
        }
    }

    /**
     * Whether the huge pages of {@code current} are HugeTLB pages: its smaps VmFlags "ht", read once per
     * layout and only when a huge page shows in a mapping that is not anonymous (THP otherwise).
     */
    private boolean hugetlb(GuestRamRegion current, Tools tools) {
        if (current.backing() == GuestRamRegion.Backing.ANONYMOUS) {
            return false;
        }
        if (hugetlbRegion[region] == null) {
            hugetlbRegion[region] = Smaps.read(tools.procRoot(), pid).stream()
                    .filter(e -> e.mapping().startAddress() == current.startAddress())
                    .findFirst()
                    .map(e -> e.vmFlags().contains("ht"))
                    .orElse(false);
        }
        return hugetlbRegion[region];
    }

    private int seenIndex(long address, long page) {
        return (int) (regionFirstPage[region]
                + (address - layout.regions().get(region).startAddress()) / page);
    }

    /** Moves the pass to {@code end}, the next region when the current one is done; returns the pages covered. */
    private long advance(long end, Tools tools) {
        long covered = (end - nextAddress) / tools.pageSizeBytes();
        pagesRead += covered;
        nextAddress = end;
        if (nextAddress == layout.regions().get(region).endAddress()) {
            region++;
            if (region < layout.regions().size()) {
                nextAddress = layout.regions().get(region).startAddress();
            }
        }
        return covered;
    }

    private PassFailure mappingGone(long address, Tools tools) {
        return new PassFailure(
                Files.isDirectory(tools.procRoot().resolve(Integer.toString(pid)))
                        ? "no page of the mapping at 0x" + Long.toHexString(address)
                                + ", inside guest RAM: its mapping changed during the pass"
                        : "process " + pid + " exited during the pass",
                true);
    }

    private void finish(Tools tools, long stepStartNanos, boolean[] completed) {
        List<MemoryMapping> maps = ProcessMaps.read(tools.procRoot(), pid);
        Optional<String> changed = GuestRamLocator.changes(layout, maps);
        if (changed.isPresent()) {
            throw new PassFailure(changed.get() + " during the pass", true);
        }
        if (tally.total() != layout.pages(tools.pageSizeBytes())) {
            throw new IllegalStateException(
                    "a pass counted " + tally.total() + " pages of " + layout.pages(tools.pageSizeBytes()));
        }
        GuestMemory.Method method = tools.method();
        boolean ksmMeasured = true;
        boolean sharers = tools.classifier() != null && tools.classifier().countsSharers();
        Optional<String> reason = sharers || tools.classifier() == null
                ? Optional.empty()
                : Optional.of("KSM sharers unknown: /proc/kpagecount unreadable");
        if (tools.classifier() == null) {
            // Without page frames a KSM page looks like a private one: take the count KSM keeps for the process.
            OptionalLong merging =
                    tools.ksm().read(pid).map(ProcessKsmStat::mergingPages).orElse(OptionalLong.empty());
            long small = tally.resident - tally.thp - tally.hugetlb;
            ksmMeasured = merging.isPresent();
            if (ksmMeasured) {
                tally.ksm = Math.min(merging.getAsLong(), small);
                tally.resident -= tally.ksm;
            }
            reason = Optional.of(
                    ksmMeasured
                            ? "KSM pages: the process's ksm_merging_pages; their sharers need CAP_SYS_ADMIN"
                            : "KSM pages unknown: no /proc/" + pid + "/ksm_stat; they count as resident");
        }
        latest = new GuestMemory(
                method,
                reason,
                pid,
                tools.pageSizeBytes(),
                layout.pages(tools.pageSizeBytes()),
                tally.toPages(ksmMeasured, sharers),
                processRssPages(tools),
                startedAt,
                tools.clock().instant(),
                (workNanos + System.nanoTime() - stepStartNanos) / 1_000_000);
        seen.markComplete();
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
            closeReaders();
            layout = null;
            seen = new PageBits(0);
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
                pages = new GuestMemory.Pages(
                        OptionalLong.empty(),
                        inPages(rollup.anonHugePagesBytes(), page),
                        OptionalLong.empty(),
                        ksm.map(ProcessKsmStat::mergingPages).orElse(OptionalLong.empty()),
                        OptionalLong.empty(),
                        ksm.map(ProcessKsmStat::zeroPages).orElse(OptionalLong.empty()),
                        OptionalLong.empty(),
                        OptionalLong.empty(),
                        inPages(rollup.swapBytes(), page),
                        OptionalLong.empty(),
                        OptionalLong.empty());
                rss = inPages(rollup.rssBytes(), page);
            } catch (ProcMemException e) {
                method = GuestMemory.Method.NONE;
                why = reason + "; smaps_rollup: " + e.getMessage();
            }
        }
        latest = new GuestMemory(
                method,
                Optional.of(why),
                pid,
                page,
                guestRamPages,
                pages,
                rss,
                now,
                now,
                (System.nanoTime() - startNanos) / 1_000_000);
        // smaps_rollup walks the page tables as a pass does: charge it as one, so it is read as rarely.
        return method == GuestMemory.Method.SMAPS_ROLLUP ? guestRamPages : 0;
    }

    private OptionalLong processRssPages(Tools tools) {
        try {
            return inPages(
                    ProcessStatus.read(tools.procRoot(), Integer.toString(pid)).vmRssBytes(), tools.pageSizeBytes());
        } catch (ProcMemException e) {
            return OptionalLong.empty();
        }
    }

    private static OptionalLong inPages(OptionalLong bytes, long pageSizeBytes) {
        return bytes.isPresent() ? OptionalLong.of(bytes.getAsLong() / pageSizeBytes) : OptionalLong.empty();
    }

    private void closeReaders() {
        if (reader != null) {
            reader.close();
            reader = null;
        }
        if (scanner != null) {
            scanner.close();
            scanner = null;
        }
    }

    @Override
    public void close() {
        closeReaders();
    }
}
