package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.PagemapScanner;
import org.memhygiene.core.procmem.ProcessStatus;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * What the monitor measures with less than root's powers, for real: without CAP_SYS_ADMIN (util-linux
 * setpriv drops it from the bounding set, as memhygiene.service does) PAGEMAP_SCAN still gives every page
 * state and the exact reclaimed memory, and pagemap+kpageflags falls back to smaps_rollup saying why; on a
 * /proc without kpageflags or pagemap (a kernel built without CONFIG_PROC_PAGE_MONITOR, reproduced by a
 * tree of links to this /proc that leaves the files out) the measurement falls back and says why.
 */
class GuestMemoryFallbackTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();

    /** Runs MeasureOnce with CAP_SYS_ADMIN dropped; its output. */
    private static String measureWithoutCapSysAdmin(GuestRamChild child, String method) throws Exception {
        Process measure = new ProcessBuilder(
                        "/usr/bin/setpriv",
                        "--bounding-set=-sys_admin",
                        "--",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        MeasureOnce.class.getName(),
                        Integer.toString(child.pid()),
                        Long.toString(3000 * PAGE),
                        method)
                .redirectErrorStream(true)
                .start();
        String out = new String(measure.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(measure.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, measure.exitValue(), out);
        return out;
    }

    @Test
    void withoutCapSysAdminPagemapScanMeasuresEveryStateAndPagemapFallsBackSayingWhy() throws Exception {
        Assumptions.assumeTrue(
                ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin(),
                "skipped: dropping CAP_SYS_ADMIN needs to have it (run as root)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs setpriv (util-linux)");
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(3000, false);
            child.unique(0, 0, 1000, 1);
            child.read(0, 1000, 250); // zero-mapped: reclaimed, which smaps_rollup cannot see
            String pagemap = measureWithoutCapSysAdmin(child, "pagemap");
            assertTrue(
                    pagemap.contains(
                            "method: smaps_rollup (fallback: memhygiene lacks CAP_SYS_ADMIN, so pagemap shows no"
                                    + " page frames (Documentation/admin-guide/mm/pagemap.rst))"),
                    pagemap);
            assertTrue(pagemap.contains("process rss pages: OptionalLong["), "smaps_rollup was read: " + pagemap);
            if (PagemapScanner.unsupportedReason(GuestMemoryMonitorTest.PROC).isEmpty()) {
                String auto = measureWithoutCapSysAdmin(child, "auto");
                assertTrue(
                        auto.contains("method: pagemap_scan (KSM pages: the process's ksm_merging_pages; their sharers"
                                + " need CAP_SYS_ADMIN)"),
                        auto);
                // Where a read fault maps no zero page, the pages read are resident: none reclaimed.
                String reclaimed = ZeroPageOnRead.mapsZeroPage() ? "250" : "0";
                assertTrue(
                        auto.contains("reclaimed pages: OptionalLong[" + reclaimed + "]"),
                        "the zero-mapped pages, exactly: " + auto);
            }
        }
    }

    @Test
    void withoutKpageflagsPagemapFallsBackAndPagemapScanStillMeasures(@TempDir Path proc) throws Exception {
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(3000, false);
            child.unique(0, 0, 1000, 1);
            Files.createSymbolicLink(proc.resolve("self"), Path.of("/proc/self"));
            Files.createSymbolicLink(proc.resolve(Integer.toString(child.pid())), Path.of("/proc/" + child.pid()));
            try (GuestMemoryMonitor monitor = open(proc, GuestMemoryMethod.PAGEMAP)) {
                GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE)))
                        .get("vm");
                assertEquals(GuestMemory.Method.SMAPS_ROLLUP, measured.method());
                String why = ProcessStatus.read(proc, "self").effectiveCapSysAdmin()
                        ? "cannot read " + proc.resolve("kpageflags") + ": absent in this kernel"
                        : "memhygiene lacks CAP_SYS_ADMIN";
                assertTrue(
                        measured.methodDescription().startsWith("smaps_rollup (fallback: " + why),
                        measured.methodDescription());
                assertEquals(
                        monitor.pagemapUnavailable().get(), measured.reason().get());
                // What smaps_rollup and ksm_stat can tell; the page states they cannot are absent, not 0.
                assertTrue(measured.processRssPages().getAsLong() >= 1000, measured.toString());
                assertTrue(
                        measured.pages().resident().isEmpty()
                                && measured.pages().notPresent().isEmpty(),
                        measured.toString());
                assertEquals(measured.pages().zero(), measured.reclaimedPages(), "ksm_zero_pages, a lower bound");
            }
            Assumptions.assumeTrue(PagemapScanner.unsupportedReason(proc).isEmpty(), "skipped: no PAGEMAP_SCAN here");
            try (GuestMemoryMonitor monitor = open(proc, GuestMemoryMethod.AUTO)) {
                GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE)))
                        .get("vm");
                assertEquals(GuestMemory.Method.PAGEMAP_SCAN, measured.method(), measured.methodDescription());
                assertEquals(1000, measured.pages().resident().getAsLong(), measured.toString());
            }
        }
    }

    @Test
    void withNeitherPagemapScanNorPageFramesTheMeasurementIsSmapsRollupNamingBoth(@TempDir Path proc) throws Exception {
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(3000, false);
            child.unique(0, 0, 1000, 1);
            // "self" without pagemap: this process's own scan, how the monitor finds out, fails as on such a kernel.
            Path self = Files.createDirectory(proc.resolve("self"));
            Files.createSymbolicLink(self.resolve("status"), Path.of("/proc/self/status"));
            Files.createSymbolicLink(proc.resolve(Integer.toString(child.pid())), Path.of("/proc/" + child.pid()));
            try (GuestMemoryMonitor monitor = open(proc, GuestMemoryMethod.AUTO)) {
                GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE)))
                        .get("vm");
                assertEquals(GuestMemory.Method.SMAPS_ROLLUP, measured.method());
                assertTrue(
                        measured.methodDescription()
                                .startsWith("smaps_rollup (fallback: " + self.resolve("pagemap")
                                        + ": absent in this kernel; "),
                        measured.methodDescription());
                assertTrue(
                        measured.methodDescription().contains("kpageflags")
                                || measured.methodDescription().contains("CAP_SYS_ADMIN"),
                        measured.methodDescription());
            }
        }
    }

    private static GuestMemoryMonitor open(Path proc, GuestMemoryMethod method) {
        return GuestMemoryMonitor.open(
                proc, GuestMemoryMonitorTest.THP, PAGE, PassBudget.wholePass(), method, Clock.systemUTC());
    }
}
