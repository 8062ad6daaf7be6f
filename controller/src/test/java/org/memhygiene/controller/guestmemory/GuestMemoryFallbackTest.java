package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ProcessStatus;

/**
 * Where pagemap cannot be used, the measurement falls back to smaps_rollup and says why — for real: the
 * monitor run without CAP_SYS_ADMIN (util-linux setpriv drops it from the bounding set), and on a /proc
 * without kpageflags (a kernel built without CONFIG_PROC_PAGE_MONITOR, reproduced by a tree of links to
 * this /proc that leaves the file out).
 */
class GuestMemoryFallbackTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();

    @Test
    void withoutCapSysAdminTheMeasurementIsSmapsRollupAndSaysWhy() throws Exception {
        Assumptions.assumeTrue(ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin(),
                "skipped: dropping CAP_SYS_ADMIN needs to have it (run as root)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs setpriv (util-linux)");
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(3000, false);
            child.unique(0, 0, 1000, 1);
            Process measure = new ProcessBuilder("/usr/bin/setpriv", "--bounding-set=-sys_admin", "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                    MeasureOnce.class.getName(), Integer.toString(child.pid()), Long.toString(3000 * PAGE))
                    .redirectErrorStream(true).start();
            String out = new String(measure.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(measure.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, measure.exitValue(), out);
            assertTrue(out.contains("method: smaps_rollup (fallback: memhygiene lacks CAP_SYS_ADMIN, so pagemap shows no"
                    + " page frames (Documentation/admin-guide/mm/pagemap.rst))"), out);
            assertTrue(out.contains("process rss pages: OptionalLong["), "smaps_rollup was read: " + out);
        }
    }

    @Test
    void withoutKpageflagsTheMeasurementIsSmapsRollupAndSaysWhy(@TempDir Path proc) throws Exception {
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(3000, false);
            child.unique(0, 0, 1000, 1);
            Files.createSymbolicLink(proc.resolve("self"), Path.of("/proc/self"));
            Files.createSymbolicLink(proc.resolve(Integer.toString(child.pid())), Path.of("/proc/" + child.pid()));
            try (GuestMemoryMonitor monitor = GuestMemoryMonitor.open(proc, GuestMemoryMonitorTest.THP, PAGE,
                    new PassBudget(PassBudget.MAX_PAGES_PER_SAMPLE, Duration.ofSeconds(30)), Clock.systemUTC())) {
                GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("vm", child.pid(), 3000 * PAGE))).get("vm");
                assertEquals(GuestMemory.Method.SMAPS_ROLLUP, measured.method());
                String why = ProcessStatus.read(proc, "self").effectiveCapSysAdmin()
                        ? "cannot read " + proc.resolve("kpageflags") + ": absent in this kernel"
                        : "memhygiene lacks CAP_SYS_ADMIN";
                assertTrue(measured.methodDescription().startsWith("smaps_rollup (fallback: " + why), measured.methodDescription());
                assertEquals(monitor.pagemapUnavailable().get(), measured.reason().get());
                // What smaps_rollup and ksm_stat can tell; the page states they cannot are absent, not 0.
                assertTrue(measured.processRssPages().getAsLong() >= 1000, measured.toString());
                assertTrue(measured.pages().resident().isEmpty() && measured.pages().notPresent().isEmpty(), measured.toString());
                assertEquals(measured.pages().zero(), measured.reclaimedPages(), "ksm_zero_pages, a lower bound");
            }
        }
    }
}
