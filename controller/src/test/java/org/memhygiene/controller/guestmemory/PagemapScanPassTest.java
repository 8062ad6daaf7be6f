package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.KPageFlags;
import org.memhygiene.core.procmem.PagemapEntry;
import org.memhygiene.core.procmem.PagemapReader;
import org.memhygiene.core.procmem.PagemapScanner;
import org.memhygiene.core.procmem.PfnTable;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessStatus;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * PAGEMAP_SCAN (Linux 6.7+) on this kernel against pagemap and kpageflags, on a real child whose pages are
 * in every state a pass tells apart: page for page the scan's categories must be what the entries and the
 * frames' flags say, and the passes built on it must count what the pagemap+kpageflags pass counts.
 */
class PagemapScanPassTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    private static final PassBudget WHOLE_PASS = PassBudget.wholePass();

    @BeforeAll
    static void needsPagemapScan() {
        Assumptions.assumeTrue(
                PagemapScanner.unsupportedReason(GuestMemoryMonitorTest.PROC).isEmpty(),
                () -> "skipped: "
                        + PagemapScanner.unsupportedReason(GuestMemoryMonitorTest.PROC)
                                .get());
    }

    /**
     * Regions 0 (small pages) and 1 (huge pages where the kernel gives them) with every state but swapped
     * and KSM; their start addresses.
     */
    private static long[] everyState(GuestRamChild child) throws Exception {
        long small = child.map(3000, false);
        child.unique(0, 0, 1000, 7); // resident
        child.read(0, 1000, 200); // the 4 KiB zero page
        child.unique(0, 1200, 300, 8); // resident, given back below
        child.zero(0, 1500, 100); // written zeros: resident, private
        long huge = child.map(2560, true);
        child.unique(1, 0, 1024, 3); // THP where the kernel has them
        child.read(1, 1024, 512); // the huge zero page (use_zero_page=1), else 4 KiB zero pages
        child.read(1, 1600, 3); // zero pages beside never-touched ones inside a huge page's range
        return new long[] {small, huge};
    }

    @Test
    void theScanSaysPageForPageWhatPagemapAndKpageflagsSay() throws Exception {
        Assumptions.assumeTrue(
                ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin(),
                "skipped: comparing with page frames needs CAP_SYS_ADMIN (run as root)");
        try (GuestRamChild child = GuestRamChild.start()) {
            long[] starts = everyState(child);
            child.dontNeed(0, 1200, 300);
            List<long[]> regions = List.of(new long[] {starts[0], 3000}, new long[] {starts[1], 2560});
            int compared = 0;
            try (PagemapScanner scanner = PagemapScanner.open(GuestMemoryMonitorTest.PROC, child.pid());
                    PagemapReader pagemap = PagemapReader.open(
                            GuestMemoryMonitorTest.PROC, child.pid(), PAGE, ByteBuffer.allocateDirect(64 * 1024));
                    PfnTable flags = PfnTable.openFlags(GuestMemoryMonitorTest.PROC, ByteBuffer.allocateDirect(4096))) {
                for (long[] region : regions) {
                    long start = region[0];
                    int pages = (int) region[1];
                    long[] scanned = scannedCategories(scanner, start, pages);
                    long[] entries = new long[pages];
                    assertEquals(pages, pagemap.read(start, entries, 0, pages));
                    for (int i = 0; i < pages; i++) {
                        long expected = categoriesOf(entries[i], flags);
                        assertEquals(
                                expected,
                                scanned[i],
                                "page " + i + " at 0x" + Long.toHexString(start + i * PAGE)
                                        + ": pagemap entry 0x" + Long.toHexString(entries[i]) + " says 0x"
                                        + Long.toHexString(expected)
                                        + ", PAGEMAP_SCAN 0x" + Long.toHexString(scanned[i]));
                        compared++;
                    }
                }
            }
            assertEquals(5560, compared);
        }
    }

    /** Every page's categories from the scan, with a small region buffer so that the walk resumes where it stopped. */
    private static long[] scannedCategories(PagemapScanner scanner, long start, int pages) {
        long[] categories = new long[pages];
        PagemapScanner.Regions regions = new PagemapScanner.Regions(2);
        long end = start + pages * PAGE;
        long next = start;
        while (next < end) {
            long walkEnd = scanner.scan(next, end, regions);
            long expected = next;
            for (int r = 0; r < regions.count(); r++) {
                assertEquals(expected, regions.start(r), "regions are contiguous within the mapping");
                for (long a = regions.start(r); a < regions.end(r); a += PAGE) {
                    categories[(int) ((a - start) / PAGE)] = regions.categories(r);
                }
                expected = regions.end(r);
            }
            assertEquals(expected, walkEnd, "the walk ends where its last region does");
            next = walkEnd;
        }
        return categories;
    }

    /** The categories a page's pagemap entry and its frame's kpageflags imply (fs/proc/task_mmu.c). */
    private static long categoriesOf(long entry, PfnTable flags) {
        if (!PagemapEntry.present(entry)) {
            return PagemapEntry.swapped(entry) ? PagemapScanner.PAGE_IS_SWAPPED : 0;
        }
        long frame = flags.get(PagemapEntry.pfn(entry));
        long categories = PagemapScanner.PAGE_IS_PRESENT;
        if (KPageFlags.has(frame, KPageFlags.ZERO_PAGE)) {
            categories |= PagemapScanner.PAGE_IS_PFNZERO;
        }
        // This child's THPs are PMD-mapped (nothing splits them), as is the huge zero page.
        if (KPageFlags.has(frame, KPageFlags.THP)) {
            categories |= PagemapScanner.PAGE_IS_HUGE;
        }
        return categories;
    }

    @Test
    void thePassesOnTheScanCountWhatThePagemapPassCounts() throws Exception {
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor pagemap = open(GuestMemoryMethod.PAGEMAP, WHOLE_PASS);
                GuestMemoryMonitor auto = open(GuestMemoryMethod.AUTO, WHOLE_PASS);
                GuestMemoryMonitor scan = open(GuestMemoryMethod.PAGEMAP_SCAN, WHOLE_PASS)) {
            everyState(child);
            List<GuestMemoryTarget> targets = List.of(
                    new GuestMemoryTarget("small", child.pid(), 3000 * PAGE),
                    new GuestMemoryTarget("huge", child.pid(), 2560 * PAGE));
            Map<String, GuestMemory> scanBefore = scan.sample(targets);
            Map<String, GuestMemory> autoBefore = auto.sample(targets);
            child.dontNeed(0, 1200, 300);
            Map<String, GuestMemory> scanned = scan.sample(targets);
            Map<String, GuestMemory> automatic = auto.sample(targets);
            boolean frames =
                    ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin();
            for (String vm : List.of("small", "huge")) {
                GuestMemory s = scanned.get(vm);
                assertEquals(GuestMemory.Method.PAGEMAP_SCAN, s.method(), s.methodDescription());
                assertEquals(
                        "pagemap_scan (KSM pages: the process's ksm_merging_pages; their sharers need CAP_SYS_ADMIN)",
                        s.methodDescription());
                assertTrue(s.pages().ksmSaved().isEmpty(), "sharers need page frames: " + s);
                GuestMemory a = automatic.get(vm);
                assertEquals(
                        frames ? GuestMemory.Method.PAGEMAP_SCAN_KPAGEFLAGS : GuestMemory.Method.PAGEMAP_SCAN,
                        a.method(),
                        a.methodDescription());
                assertEquals(s.reclaimedPages(), a.reclaimedPages(), vm);
                assertEquals(s.pages().givenBack(), a.pages().givenBack(), vm);
                assertTrue(scanBefore.get(vm).measuredAt().compareTo(s.passStartedAt()) <= 0);
                assertTrue(autoBefore.get(vm).measuredAt().compareTo(a.passStartedAt()) <= 0);
            }
            // Where a read fault maps no zero page, the 200 pages read are resident.
            boolean zero = ZeroPageOnRead.mapsZeroPage();
            GuestMemoryMonitorTest.assertPages(
                    scanned.get("small"), zero ? 1100 : 1300, 0, zero ? 200 : 0, 0, 1700, 300);
            assertEquals(
                    zero ? 500 : 300,
                    scanned.get("small").reclaimedPages().getAsLong(),
                    "200 zero-mapped + 300 given back");
            if (frames) {
                Map<String, GuestMemory> reference = pagemap.sample(targets);
                // pagemap's own pass saw the pages given back only now: compare what it can tell.
                for (String vm : List.of("small", "huge")) {
                    GuestMemory.Pages p = reference.get(vm).pages();
                    GuestMemory.Pages q = automatic.get(vm).pages();
                    assertEquals(
                            List.of(
                                    p.resident(),
                                    p.thp(),
                                    p.hugetlb(),
                                    p.ksm(),
                                    p.ksmSaved(),
                                    p.zero(),
                                    p.hugeZero(),
                                    p.swapped(),
                                    p.notPresent()),
                            List.of(
                                    q.resident(),
                                    q.thp(),
                                    q.hugetlb(),
                                    q.ksm(),
                                    q.ksmSaved(),
                                    q.zero(),
                                    q.hugeZero(),
                                    q.swapped(),
                                    q.notPresent()),
                            vm + ": " + reference.get(vm) + " vs " + automatic.get(vm));
                    GuestMemory.Pages r = scanned.get(vm).pages();
                    assertEquals(
                            List.of(p.thp(), p.hugetlb(), p.zero(), p.hugeZero(), p.swapped(), p.notPresent()),
                            List.of(r.thp(), r.hugetlb(), r.zero(), r.hugeZero(), r.swapped(), r.notPresent()),
                            vm);
                }
            }
        }
    }

    @Test
    void anIncrementalScanPassWithinTheBudgetMeasuresWhatAWholeOneDoes() throws Exception {
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor whole = open(GuestMemoryMethod.AUTO, WHOLE_PASS);
                GuestMemoryMonitor incremental =
                        open(GuestMemoryMethod.AUTO, new PassBudget(700, Duration.ofSeconds(30)))) {
            everyState(child);
            List<GuestMemoryTarget> targets = List.of(
                    new GuestMemoryTarget("small", child.pid(), 3000 * PAGE),
                    new GuestMemoryTarget("huge", child.pid(), 2560 * PAGE));
            Map<String, GuestMemory> reference = whole.sample(targets);
            int samples = 0;
            Map<String, GuestMemory> measured = Map.of();
            while (measured.size() < 2) {
                measured = incremental.sample(targets);
                assertTrue(++samples < 30, "took " + samples + " samples");
            }
            assertTrue(samples >= 8, "5560 pages at 700 a sample: " + samples + " samples");
            for (String vm : List.of("small", "huge")) {
                assertEquals(reference.get(vm).pages(), measured.get(vm).pages(), vm);
            }
        }
    }

    @Test
    void aProcessThatExitsDuringAScanPassIsReportedAsGone() throws Exception {
        GuestRamChild child = GuestRamChild.start();
        int pid = child.pid();
        try (GuestMemoryMonitor monitor =
                open(GuestMemoryMethod.PAGEMAP_SCAN, new PassBudget(1024, Duration.ofSeconds(30)))) {
            child.map(3000, false);
            child.unique(0, 0, 3000, 1);
            List<GuestMemoryTarget> target = List.of(new GuestMemoryTarget("vm", pid, 3000 * PAGE));
            assertEquals(Map.of(), monitor.sample(target), "the first pass is under way");
            child.close();
            GuestMemory measured = monitor.sample(target).get("vm");
            assertEquals(GuestMemory.Method.NONE, measured.method());
            assertEquals("none (fallback: process " + pid + " exited during the pass)", measured.methodDescription());
        }
    }

    @Test
    void theScannerNamesAProcessThatIsGone() throws Exception {
        GuestRamChild child = GuestRamChild.start();
        int pid = child.pid();
        child.close();
        ProcMemException gone = Assertions.assertThrows(
                ProcMemException.class, () -> PagemapScanner.open(GuestMemoryMonitorTest.PROC, pid));
        assertEquals(ProcMemException.Kind.GONE, gone.kind(), gone.getMessage());
        assertTrue(Files.notExists(GuestMemoryMonitorTest.PROC.resolve(Integer.toString(pid))));
    }

    private static GuestMemoryMonitor open(GuestMemoryMethod method, PassBudget budget) {
        return GuestMemoryMonitor.open(
                GuestMemoryMonitorTest.PROC, GuestMemoryMonitorTest.THP, PAGE, budget, method, Clock.systemUTC());
    }
}
