package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.KPageFlags;
import org.memhygiene.core.procmem.PagemapEntry;
import org.memhygiene.core.procmem.PagemapReader;
import org.memhygiene.core.procmem.PfnTable;
import org.memhygiene.core.procmem.ProcessStatus;

/**
 * The real kernel's KSM merging a real child's pages, seen by the pass: pages merged with each other are
 * KSM-shared with their sharers counted, zeroed pages merged with the zero page (use_zero_pages=1) are
 * zero-mapped (and those that were never touched before are zero but not reclaimed), and what the pass
 * calls reclaimed grew by exactly what the Rss of the child's guest RAM mapping fell (smaps; not VmRSS,
 * which also moves with the child's own code pages as new commands fault them in). Changes
 * run, pages_to_scan, sleep_millisecs, use_zero_pages (and smart_scan, advisor_mode where the kernel has
 * them) and puts every one back, also on failure. Run under flock /tmp/memhygiene-ksm.lock.
 */
@ExtendWith(KsmHostLock.class)
class RealKsmGuestMemoryTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    /** A bound in KSM's own progress, not in seconds: full scans done while waiting for the merge. */
    private static final long MAX_FULL_SCANS = 30;

    @Test
    void ksmSharedAndZeroMergedPagesAndReclaimedIsTheRssDrop() throws Exception {
        Assumptions.assumeTrue(
                FastKsm.available(), "skipped: needs root and a kernel with KSM (/sys/kernel/mm/ksm/run not writable)");
        Assumptions.assumeTrue(
                Files.exists(Path.of("/sys/kernel/mm/ksm/ksm_zero_pages"))
                        && Files.exists(Path.of("/proc/self/ksm_stat")),
                "skipped: needs Linux 6.6+ (ksm_zero_pages, /proc/PID/ksm_stat)");
        Assumptions.assumeTrue(
                ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin(),
                "skipped: pagemap shows PFNs only to CAP_SYS_ADMIN");
        long seed = new Random().nextLong() >>> 1;
        FastKsm ksm = null;
        try (GuestRamChild child = GuestRamChild.start();
                GuestMemoryMonitor monitor = open(GuestMemoryMethod.AUTO);
                GuestMemoryMonitor pagemap = open(GuestMemoryMethod.PAGEMAP);
                GuestMemoryMonitor scan = open(GuestMemoryMethod.PAGEMAP_SCAN)) {
            long start = child.map(4000, false);
            child.unique(0, 0, 1000, seed); // stays private: nothing else is like it
            child.same(0, 1000, 1000, seed); // 1000 identical pages: KSM shares them
            child.unique(0, 2000, 1200, seed + 1); // 1000 to be zeroed, 200 to be given back
            List<GuestMemoryTarget> target = List.of(new GuestMemoryTarget("vm", child.pid(), 4000 * PAGE));
            GuestMemory before = monitor.sample(target).get("vm");
            pagemap.sample(target);
            scan.sample(target);
            long rssBefore = child.rssBytes(start, 4000 * PAGE);
            GuestMemoryMonitorTest.assertPages(before, 3200, 0, 0, 0, 800, 0);

            child.zero(0, 2000, 1000);
            child.dontNeed(0, 3000, 200);
            // 300 pages the whole pass above saw never touched, filled with zeros as a scrub fills free
            // guest memory: the Rss grows by them and falls back when KSM merges them, so they are zero but
            // not reclaimed.
            child.zero(0, 3200, 300);
            child.mergeable(0);
            ksm = FastKsm.start(5000);
            ProcessKsmStat merged = ksm.waitForMerging(child.pid(), 1300, 1000, MAX_FULL_SCANS);
            ksm.stop(); // merged pages stay merged; nothing moves during the pass

            GuestMemory after = monitor.sample(target).get("vm");
            long rssAfter = child.rssBytes(start, 4000 * PAGE);
            GuestMemoryMonitorTest.assertPages(after, 1000, 1000, 1300, 0, 700, 200);
            assertEquals(300, after.pages().zeroNeverBacked().getAsLong(), "zero-mapped, never seen backed");
            assertEquals(
                    merged.zeroPages().getAsLong(), after.pages().zero().getAsLong(), "= the child's ksm_zero_pages");
            assertEquals(
                    merged.mergingPages().getAsLong(),
                    after.pages().ksm().getAsLong(),
                    "= the child's ksm_merging_pages");
            long frames = ksmFrames(child.pid(), start + 1000 * PAGE, 1000);
            assertEquals(
                    1000 - frames,
                    after.pages().ksmSaved().getAsLong(),
                    "each of the " + frames + " KSM frames saves all its mappings but one");
            // The same pages, whichever way they are read: pagemap entry by entry, or PAGEMAP_SCAN's runs with
            // the present small pages looked up (AUTO as root), or PAGEMAP_SCAN alone with ksm_stat's count.
            assertEquals(
                    pagemap.sample(target).get("vm").pages(),
                    after.pages(),
                    after.methodDescription() + " vs pagemap+kpageflags");
            GuestMemory scanned = scan.sample(target).get("vm");
            GuestMemoryMonitorTest.assertPages(scanned, 1000, 1000, 1300, 0, 700, 200);
            assertEquals(300, scanned.pages().zeroNeverBacked().getAsLong(), scanned.toString());
            assertTrue(scanned.pages().ksmSaved().isEmpty(), scanned.toString());
            long rssDropPages = (rssBefore - rssAfter) / PAGE;
            long reclaimedGrowth =
                    after.reclaimedPages().getAsLong() - before.reclaimedPages().getAsLong();
            System.out.printf(
                    "RealKsmGuestMemoryTest: guest RAM Rss %d -> %d KiB (drop %d pages); reclaimed %d -> %d pages; %s%n",
                    rssBefore / 1024,
                    rssAfter / 1024,
                    rssDropPages,
                    before.reclaimedPages().getAsLong(),
                    after.reclaimedPages().getAsLong(),
                    after.pages());
            assertEquals(1200, reclaimedGrowth, "1000 zero-mapped + 200 given back, not the 300 never backed");
            assertTrue(
                    Math.abs(rssDropPages - reclaimedGrowth) <= 1,
                    "the guest RAM mapping's Rss (smaps) fell " + rssDropPages + " pages, reclaimed grew "
                            + reclaimedGrowth);
        } finally {
            if (ksm != null) {
                ksm.close();
            }
        }
        assertTrue(ksm.restored(), "every knob is back to what it was: " + ksm.previousValues());
    }

    private static GuestMemoryMonitor open(GuestMemoryMethod method) {
        return GuestMemoryMonitor.open(
                GuestMemoryMonitorTest.PROC,
                GuestMemoryMonitorTest.THP,
                PAGE,
                PassBudget.wholePass(),
                method,
                Clock.systemUTC());
    }

    /**
     * The distinct KSM frames behind {@code count} pages from {@code address}, read with the same readers
     * the pass uses (as a probe comparing frames across processes would): each flagged KSM in kpageflags,
     * and their kpagecounts adding up to the pages.
     */
    private static long ksmFrames(int pid, long address, int count) {
        long[] entries = new long[count];
        ByteBuffer scratch = ByteBuffer.allocateDirect(count * 8);
        try (PagemapReader pagemap = PagemapReader.open(GuestMemoryMonitorTest.PROC, pid, PAGE, scratch);
                PfnTable flags = PfnTable.openFlags(GuestMemoryMonitorTest.PROC, ByteBuffer.allocateDirect(4096));
                PfnTable counts = PfnTable.openCounts(GuestMemoryMonitorTest.PROC, ByteBuffer.allocateDirect(4096))) {
            assertEquals(count, pagemap.read(address, entries, 0, count));
            long[] pfns = Arrays.stream(entries)
                    .map(PagemapEntry::pfn)
                    .sorted()
                    .distinct()
                    .toArray();
            long[] frameFlags = new long[pfns.length];
            long[] frameCounts = new long[pfns.length];
            flags.lookup(pfns, pfns.length, frameFlags);
            counts.lookup(pfns, pfns.length, frameCounts);
            assertTrue(
                    Arrays.stream(frameFlags).allMatch(f -> KPageFlags.has(f, KPageFlags.KSM)),
                    "every frame is a KSM page");
            assertEquals(
                    count,
                    Arrays.stream(frameCounts).sum(),
                    "kpagecount: every mapping of those frames is the child's");
            return pfns.length;
        }
    }
}
