package org.memhygiene.core.procmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.linux.LinuxMemory;

/** This process's own pages through pagemap, kpageflags and kpagecount. */
class PagemapReaderTest {
    private static final Path PROC = Path.of("/proc");
    private static final long PAGE = LinuxMemory.pageSizeBytes();

    @Test
    void aWrittenPageIsPresentExclusiveAnonymousAndMappedOnceAnUntouchedOneIsNot() {
        Assumptions.assumeTrue(
                ProcessStatus.read(PROC, "self").effectiveCapSysAdmin(),
                "skipped: PFNs and kpageflags need CAP_SYS_ADMIN (run as root)");
        int pages = 3;
        Pointer memory = LinuxMemory.mapAnonymous(pages * PAGE);
        // A small scratch buffer: a read of 3 pages takes two syscalls.
        ByteBuffer scratch = ByteBuffer.allocateDirect(16);
        try (PagemapReader pagemap =
                        PagemapReader.open(PROC, (int) ProcessHandle.current().pid(), PAGE, scratch);
                PfnTable flags = PfnTable.openFlags(PROC, ByteBuffer.allocateDirect(64));
                PfnTable counts = PfnTable.openCounts(PROC, ByteBuffer.allocateDirect(64))) {
            LinuxMemory.madvise(memory, pages * PAGE, LinuxMemory.MADV_NOHUGEPAGE);
            memory.setByte(0, (byte) 1);
            memory.getByte(2 * PAGE); // a read of a never-written page maps the zero page (ZeroPageOnRead)
            long[] entries = new long[pages + 1];
            assertEquals(pages, pagemap.read(Pointer.nativeValue(memory), entries, 1, pages));
            long written = entries[1];
            assertTrue(PagemapEntry.present(written) && PagemapEntry.exclusive(written) && !PagemapEntry.file(written));
            assertFalse(PagemapEntry.present(entries[2]) || PagemapEntry.swapped(entries[2]), "untouched");
            boolean zeroPage = ZeroPageOnRead.mapsZeroPage();
            // The read page is the zero page, or where the kernel maps none on a read fault, a page of its own.
            assertEquals(
                    zeroPage,
                    PagemapEntry.present(entries[3]) && !PagemapEntry.exclusive(entries[3]),
                    "the page read: 0x" + Long.toHexString(entries[3]));

            long[] pfns = {PagemapEntry.pfn(entries[3]), PagemapEntry.pfn(written)};
            Arrays.sort(pfns);
            long[] pageFlags = new long[2];
            long[] pageCounts = new long[2];
            flags.lookup(pfns, 2, pageFlags);
            counts.lookup(pfns, 2, pageCounts);
            int read = pfns[0] == PagemapEntry.pfn(entries[3]) ? 0 : 1;
            if (zeroPage) {
                assertTrue(KPageFlags.has(pageFlags[read], KPageFlags.ZERO_PAGE), Long.toHexString(pageFlags[read]));
                assertEquals(0, pageCounts[read], "the zero page is not mapcounted");
            } else {
                assertFalse(KPageFlags.has(pageFlags[read], KPageFlags.ZERO_PAGE), Long.toHexString(pageFlags[read]));
                assertEquals(1, pageCounts[read], "the read page's own frame");
            }
            assertTrue(KPageFlags.has(pageFlags[1 - read], KPageFlags.ANON)
                    && !KPageFlags.has(pageFlags[1 - read], KPageFlags.KSM));
            assertEquals(1, pageCounts[1 - read]);
            // The one-page lookup sees the same page: its kind (anonymous, not KSM, not huge). Not every bit:
            // the kernel may move the page onto an LRU list, or mark it referenced or active, between the two
            // reads (kpageflags bits 2, 5 and 6: Documentation/admin-guide/mm/pagemap.rst); a build here once saw LRU
            // set.
            long kind = KPageFlags.ANON | KPageFlags.KSM | KPageFlags.THP | KPageFlags.HUGE | KPageFlags.ZERO_PAGE;
            assertEquals(pageFlags[1 - read] & kind, flags.get(PagemapEntry.pfn(written)) & kind);
        } finally {
            LinuxMemory.unmap(memory, pages * PAGE);
        }
    }

    @Test
    void aReaderClosedByAnInterruptOpensItsFileAgain() {
        Pointer memory = LinuxMemory.mapAnonymous(PAGE);
        try (PagemapReader pagemap =
                PagemapReader.open(PROC, (int) ProcessHandle.current().pid(), PAGE, ByteBuffer.allocateDirect(64))) {
            memory.setByte(0, (byte) 1);
            long[] entry = new long[1];
            Thread.currentThread().interrupt();
            assertThrows(
                    ProcMemException.class,
                    () -> pagemap.read(Pointer.nativeValue(memory), entry, 0, 1),
                    "an interrupted thread's read closes the channel");
            assertTrue(Thread.interrupted(), "the interrupt stays set until cleared");
            assertEquals(1, pagemap.read(Pointer.nativeValue(memory), entry, 0, 1));
            assertTrue(PagemapEntry.present(entry[0]));
        } finally {
            LinuxMemory.unmap(memory, PAGE);
        }
    }

    @Test
    void anUnalignedAddressOrScratchIsRefused() {
        ByteBuffer scratch = ByteBuffer.allocateDirect(64);
        try (PagemapReader pagemap =
                PagemapReader.open(PROC, (int) ProcessHandle.current().pid(), PAGE, scratch)) {
            assertThrows(IllegalArgumentException.class, () -> pagemap.read(PAGE + 1, new long[1], 0, 1));
        }
        assertThrows(
                IllegalArgumentException.class, () -> PfnTable.openFlags(PROC, ByteBuffer.allocate(64)), "not direct");
    }

    @Test
    void aPfnTableThatEndsEarlyIsAnErrorNotAZero() {
        Assumptions.assumeTrue(
                ProcessStatus.read(PROC, "self").effectiveCapSysAdmin(), "skipped: kpageflags is root's");
        try (PfnTable flags = PfnTable.openFlags(PROC, ByteBuffer.allocateDirect(64))) {
            ProcMemException e = assertThrows(ProcMemException.class, () -> flags.get(1L << 48));
            assertEquals(ProcMemException.Kind.MALFORMED, e.kind());
            assertTrue(e.getMessage().startsWith("/proc/kpageflags: ends before PFN 0x1000000000000"), e.getMessage());
        }
    }
}
