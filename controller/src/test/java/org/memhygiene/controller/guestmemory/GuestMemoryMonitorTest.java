package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ProcessStatus;
import org.memhygiene.core.procmem.Smaps;
import org.memhygiene.core.procmem.SmapsEntry;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * The pagemap+kpageflags pass on real processes of this machine: a child (guest_ram_child.c) puts pages
 * of its own memory into known states, and the monitor must find each state where the kernel put it.
 * KSM's states are in {@link RealKsmGuestMemoryTest}, the PAGEMAP_SCAN passes in {@link PagemapScanPassTest}.
 * Needs root (CAP_SYS_ADMIN: pagemap shows PFNs only then).
 */
class GuestMemoryMonitorTest {
    static final Path PROC = Path.of("/proc");
    static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage");
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    private static final PassBudget WHOLE_PASS =
            new PassBudget(PassBudget.MAX_PAGES_PER_SAMPLE, Duration.ofSeconds(30));

    @BeforeAll
    static void needsCapSysAdmin() {
        Assumptions.assumeTrue(
                ProcessStatus.read(PROC, "self").effectiveCapSysAdmin(),
                "skipped: pagemap shows PFNs only to CAP_SYS_ADMIN (run as root)");
    }

    @Test
    void findsResidentZeroNotPresentAndGivenBackPagesAndTheRssDropIsWhatCameBack() throws Exception {
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor monitor = open(WHOLE_PASS)) {
            // Where a read fault maps no zero page, the pages read are resident, and the second read below,
            // which could only add zero pages never backed, is left out.
            boolean zero = ZeroPageOnRead.mapsZeroPage();
            child.map(3000, false);
            child.unique(0, 0, 1000, 7); // resident
            child.read(0, 1000, 200); // read, never written: the 4 KiB zero page
            child.unique(0, 1200, 300, 8); // resident, then given back below
            GuestMemoryTarget target = new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE);

            GuestMemory before = monitor.sample(List.of(target)).get("vm");
            long rssBefore = child.vmRssBytes();
            assertEquals(GuestMemory.Method.PAGEMAP, before.method(), before.methodDescription());
            assertEquals("pagemap+kpageflags", before.methodDescription());
            assertPages(before, zero ? 1300 : 1500, 0, zero ? 200 : 0, 0, 1500, 0);
            assertEquals(3000, before.guestRamPages());
            assertEquals(zero ? 200 : 0, before.reclaimedPages().getAsLong(), "the zero-page mappings");

            child.dontNeed(0, 1200, 300);
            if (zero) {
                // Read, never written, after a whole pass saw them never touched: zero-mapped, never a cost.
                child.read(0, 1500, 100);
            }
            GuestMemory after = monitor.sample(List.of(target)).get("vm");
            long rssAfter = child.vmRssBytes();
            assertPages(after, zero ? 1000 : 1200, 0, zero ? 300 : 0, 0, zero ? 1700 : 1800, 300);
            assertEquals(zero ? 100 : 0, after.pages().zeroNeverBacked().getAsLong(), "zero-mapped, never backed");
            assertEquals(0, before.pages().zeroNeverBacked().getAsLong(), "the first pass cannot know");
            assertEquals(
                    zero ? 500 : 300,
                    after.reclaimedPages().getAsLong(),
                    "200 zero-mapped before the first pass, 300 given back");
            assertEquals(
                    (rssBefore - rssAfter) / PAGE,
                    after.reclaimedPages().getAsLong() - before.reclaimedPages().getAsLong(),
                    "reclaimed grew by the RSS drop");
            assertEquals(rssAfter / PAGE, after.processRssPages().getAsLong(), "VmRSS at the end of the pass");
            assertTrue(after.measuredAt().isAfter(before.measuredAt())
                    || after.measuredAt().equals(before.measuredAt()));
        }
    }

    @Test
    void transparentHugePagesAndTheHugeZeroPage() throws Exception {
        String enabled = Files.readString(THP.resolve("enabled"));
        Assumptions.assumeFalse(
                enabled.contains("[never]"), "skipped: THP is disabled on this host (" + enabled.strip() + ")");
        boolean hugeZero =
                Files.readString(THP.resolve("use_zero_page")).strip().equals("1");
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor monitor = open(WHOLE_PASS)) {
            long start = child.map(2560, true);
            child.unique(0, 0, 1024, 3); // two huge pages when the kernel has them
            child.read(0, 1024, 512); // a read fault: the huge zero page
            GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("vm", child.pid(), 2560 * PAGE)))
                    .get("vm");
            SmapsEntry region = Smaps.read(PROC, child.pid()).stream()
                    .filter(e -> e.mapping().startAddress() == start)
                    .findFirst()
                    .orElseThrow();
            long anonHugePages = region.anonHugePagesBytes().getAsLong() / PAGE;
            Assumptions.assumeTrue(anonHugePages > 0, "skipped: the kernel gave no huge page (memory too fragmented)");
            assertEquals(anonHugePages, measured.pages().thp().getAsLong(), "THP pages = the kernel's AnonHugePages");
            // Where a read fault maps no zero page, the read's page is resident: a huge page of its own.
            assertEquals(
                    ZeroPageOnRead.mapsZeroPage() ? 1024 : 1536,
                    measured.pages().resident().getAsLong());
            assertEquals(
                    region.rssBytes().getAsLong() / PAGE, measured.rssPages().getAsLong(), "= the mapping's Rss");
            if (!ZeroPageOnRead.mapsZeroPage()) {
                assertEquals(
                        0,
                        measured.pages().zero().getAsLong()
                                + measured.pages().hugeZero().getAsLong());
            } else if (hugeZero) {
                assertEquals(512, measured.pages().hugeZero().getAsLong(), "use_zero_page=1: the huge zero page");
                assertEquals(
                        0, measured.reclaimedPages().getAsLong(), "the huge zero page never held memory of the guest");
            } else {
                assertEquals(512, measured.pages().zero().getAsLong(), "use_zero_page=0: 4 KiB zero pages");
            }
            assertEquals(1024, measured.pages().notPresent().getAsLong());
        }
    }

    @Test
    void anIncrementalPassWithinTheBudgetMeasuresWhatAWholePassDoes() throws Exception {
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor whole = open(WHOLE_PASS);
                GuestMemoryMonitor incremental = open(new PassBudget(1000, Duration.ofSeconds(30)))) {
            child.map(3000, false);
            child.map(2560, true);
            child.unique(0, 0, 700, 1);
            child.read(0, 700, 300);
            child.unique(1, 0, 1536, 2);
            child.read(1, 1536, 512);
            List<GuestMemoryTarget> targets = List.of(
                    new GuestMemoryTarget("small", child.pid(), 3000 * PAGE),
                    new GuestMemoryTarget("huge", child.pid(), 2560 * PAGE));
            Map<String, GuestMemory> reference = whole.sample(targets);

            int samples = 0;
            Map<String, GuestMemory> measured = Map.of();
            while (measured.size() < 2) {
                measured = incremental.sample(targets);
                samples++;
                double progress = incremental.progress("small").getAsDouble()
                        + incremental.progress("huge").getAsDouble();
                assertTrue(samples < 20, "took " + samples + " samples, progress " + progress);
            }
            // 5560 pages at 1000 a sample (each chunk ends on a 2 MiB boundary, at most one huge page over).
            assertTrue(samples >= 5, "one sample did not read everything: " + samples + " samples");
            for (String vm : List.of("small", "huge")) {
                assertEquals(
                        GuestMemory.Method.PAGEMAP,
                        measured.get(vm).method(),
                        measured.get(vm).methodDescription());
                assertEquals(reference.get(vm).pages(), measured.get(vm).pages(), vm);
            }
        }
    }

    @Test
    void aMappingThatChangesDuringThePassFallsBackWithTheReasonAndIsLookedForAgain() throws Exception {
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor monitor = open(new PassBudget(1024, Duration.ofSeconds(30)))) {
            child.map(3000, false);
            child.unique(0, 0, 3000, 4);
            List<GuestMemoryTarget> target = List.of(new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE));
            assertEquals(Map.of(), monitor.sample(target), "the first pass is under way");
            child.unmap(0);
            GuestMemory measured = sampleUntilNew(monitor, target, null);
            assertEquals(GuestMemory.Method.SMAPS_ROLLUP, measured.method());
            assertTrue(
                    measured.methodDescription()
                            .matches("smaps_rollup \\(fallback: guest RAM mapping anonymous 0x.* is now"
                                    + " gone or replaced during the pass\\)"),
                    measured.methodDescription());
            assertTrue(measured.processRssPages().getAsLong() > 0, "smaps_rollup's Rss");
            assertTrue(measured.pages().resident().isEmpty(), "smaps_rollup has no page states");

            GuestMemory next = sampleUntilNew(monitor, target, measured);
            assertTrue(
                    next.methodDescription().startsWith("smaps_rollup (fallback: guest RAM not found: no mapping"),
                    next.methodDescription());
        }
    }

    @Test
    void aProcessThatExitsDuringThePassIsReportedAsGone() throws Exception {
        GuestRamChild child = GuestRamChild.start();
        int pid = child.pid();
        try (GuestMemoryMonitor monitor = open(new PassBudget(1024, Duration.ofSeconds(30)))) {
            child.map(3000, false);
            List<GuestMemoryTarget> target = List.of(new GuestMemoryTarget("vm", pid, 3000 * PAGE));
            monitor.sample(target);
            child.close();
            GuestMemory measured = monitor.sample(target).get("vm");
            assertEquals(GuestMemory.Method.NONE, measured.method());
            assertEquals("none (fallback: process " + pid + " exited during the pass)", measured.methodDescription());
            assertTrue(measured.reclaimedPages().isEmpty());
        }
    }

    @Test
    void aVmWhoseQemuProcessChangedIsMeasuredAfreshAndAVmNoLongerListedIsForgotten() throws Exception {
        try (GuestRamChild first = GuestRamChild.start();
                GuestRamChild second = GuestRamChild.start();
                GuestMemoryMonitor monitor = open(WHOLE_PASS)) {
            first.map(3000, false);
            first.unique(0, 0, 3000, 1);
            second.map(3000, false);
            GuestMemory before = monitor.sample(List.of(new GuestMemoryTarget("vm", first.pid(), 3000 * PAGE)))
                    .get("vm");
            assertEquals(3000, before.pages().resident().getAsLong());
            GuestMemory after = monitor.sample(List.of(new GuestMemoryTarget("vm", second.pid(), 3000 * PAGE)))
                    .get("vm");
            assertEquals(second.pid(), after.pid());
            assertPages(after, 0, 0, 0, 0, 3000, 0);
            assertEquals(Map.of(), monitor.sample(List.of()));
            assertTrue(monitor.progress("vm").isEmpty());
        }
    }

    @Test
    void aBudgetOrTargetOutOfBoundsIsRefusedNamingIt() {
        IllegalArgumentException pages =
                assertThrows(IllegalArgumentException.class, () -> new PassBudget(0, Duration.ofMillis(5)));
        assertEquals("pages per sample must be in [1, 33554432], got 0", pages.getMessage());
        IllegalArgumentException time =
                assertThrows(IllegalArgumentException.class, () -> new PassBudget(1, Duration.ZERO));
        assertEquals("the time per sample must be positive, got PT0S", time.getMessage());
        IllegalArgumentException pid =
                assertThrows(IllegalArgumentException.class, () -> new GuestMemoryTarget("web", 0, PAGE));
        assertEquals("VM web: pid must be positive, got 0", pid.getMessage());
        IllegalArgumentException ram =
                assertThrows(IllegalArgumentException.class, () -> new GuestMemoryTarget("web", 1, -1));
        assertEquals("VM web: memory must be positive, got -1", ram.getMessage());
    }

    private static GuestMemoryMonitor open(PassBudget budget) {
        return GuestMemoryMonitor.open(PROC, THP, PAGE, budget, GuestMemoryMethod.PAGEMAP, Clock.systemUTC());
    }

    /** Samples until VM "vm" has a measurement other than {@code previous}. */
    static GuestMemory sampleUntilNew(
            GuestMemoryMonitor monitor, List<GuestMemoryTarget> target, GuestMemory previous) {
        for (int i = 0; i < 100; i++) {
            GuestMemory measured = monitor.sample(target).get("vm");
            if (measured != null && measured != previous) {
                return measured;
            }
        }
        throw new AssertionError("no new measurement after 100 samples");
    }

    /** resident, ksm, zero, swapped, notPresent, givenBack; hugeZero 0. */
    static void assertPages(
            GuestMemory m, long resident, long ksm, long zero, long swapped, long notPresent, long givenBack) {
        GuestMemory.Pages p = m.pages();
        String all = m.toString();
        assertEquals(resident, p.resident().getAsLong(), "resident: " + all);
        assertEquals(ksm, p.ksm().getAsLong(), "ksm: " + all);
        assertEquals(zero, p.zero().getAsLong(), "zero: " + all);
        assertEquals(swapped, p.swapped().getAsLong(), "swapped: " + all);
        assertEquals(notPresent, p.notPresent().getAsLong(), "not present: " + all);
        assertEquals(givenBack, p.givenBack().getAsLong(), "given back: " + all);
        assertEquals(0, p.hugeZero().getAsLong(), "huge zero: " + all);
    }
}
