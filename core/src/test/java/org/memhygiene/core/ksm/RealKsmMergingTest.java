package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The real kernel's KSM merging the pages of a real child process, seen through KsmSysfs and
 * ProcessKsmReader. Changes run, pages_to_scan, sleep_millisecs and use_zero_pages, and puts every one
 * back afterwards, also when the test fails (and through a shutdown hook if the JVM is killed).
 */
@ExtendWith(KsmHostLock.class)
class RealKsmMergingTest {
    private static final int IDENTICAL_PAGES = 4096;
    private static final int ZERO_PAGES = 4096;
    private static final long WAIT_MILLIS = 120_000;

    @Test
    void ksmMergesIdenticalPagesAndMapsZeroPagesToTheZeroPage() throws Exception {
        Path ksm = KsmSysfs.DEFAULT_ROOT;
        Assumptions.assumeTrue(
                Files.isWritable(ksm.resolve("run")),
                "skipped: needs root and a kernel with KSM (" + ksm + "/run not writable)");
        Assumptions.assumeTrue(
                Files.exists(ksm.resolve("ksm_zero_pages")) && Files.exists(Path.of("/proc/self/ksm_stat")),
                "skipped: needs Linux 6.6+ (ksm_zero_pages, /proc/PID/ksm_stat)");
        KsmSysfs sysfs = new KsmSysfs(ksm, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        ProcessKsmReader processes = new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT);
        KsmSettings fastScan =
                KsmSettings.parse(List.of("run=1", "pages_to_scan=5000", "sleep_millisecs=10", "use_zero_pages=1"));
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, fastScan);
        Thread hook = restorePoint.restoreOnShutdown();
        // Counters before the child exists, for the failure messages below.
        KsmStats before = sysfs.read();
        Process child = MergeableMemoryChild.start(IDENTICAL_PAGES, ZERO_PAGES);
        try {
            int pid = (int) child.pid();

            sysfs.apply(fastScan);
            ProcessKsmStat merged = waitForMerging(processes, pid);

            KsmStats after = sysfs.read();
            assertTrue(
                    merged.mergingPages().getAsLong() >= IDENTICAL_PAGES * 9 / 10,
                    "child's ksm_merging_pages: " + merged);
            assertTrue(merged.zeroPages().getAsLong() >= ZERO_PAGES * 9 / 10, "child's ksm_zero_pages: " + merged);
            // The host-wide counters include the child's pages. They are not compared with a "before":
            // with run=0 they freeze, so pages of processes that exited (an earlier run of this test) stay
            // counted until ksmd's next scan, which may drop them while the child's are added.
            assertTrue(
                    after.pagesSharing().getAsLong() >= IDENTICAL_PAGES * 9 / 10 - 1,
                    "pages_sharing " + after.pagesSharing() + " (before " + before.pagesSharing() + ")");
            assertTrue(
                    after.ksmZeroPages().getAsLong() >= ZERO_PAGES * 9 / 10,
                    "ksm_zero_pages " + after.ksmZeroPages() + " (before " + before.ksmZeroPages() + ")");
            assertTrue(
                    processes.top(1000).processes().stream().anyMatch(p -> p.pid() == pid), "ksm top lists the child");
        } finally {
            child.getOutputStream().close();
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            restorePoint.restore();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        assertEquals(
                restorePoint.previousValues(),
                sysfs.currentValues(restorePoint.previousValues().keySet()),
                "every knob is back to what it was");
    }

    private static ProcessKsmStat waitForMerging(ProcessKsmReader processes, int pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        Optional<ProcessKsmStat> stat = Optional.empty();
        while (System.nanoTime() < deadline) {
            stat = processes.read(pid);
            if (stat.isPresent()
                    && stat.get().mergingPages().orElse(0) >= IDENTICAL_PAGES * 9 / 10
                    && stat.get().zeroPages().orElse(0) >= ZERO_PAGES * 9 / 10) {
                return stat.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("KSM did not merge the child's pages within " + WAIT_MILLIS + " ms: " + stat);
    }
}
