package org.memhygiene.core.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Real calls against the running kernel, and real failures. */
class LinuxMemoryTest {
    private final long page = LinuxMemory.pageSizeBytes();

    @Test
    void pageSizeMatchesTheKernelsViewOfAMapping() throws IOException {
        Pointer memory = LinuxMemory.mapAnonymous(page);
        try {
            // KernelPageSize in smaps is the kernel's own page size for the mapping.
            assertEquals(page, SelfMaps.smapsField(memory, "KernelPageSize") * 1024);
        } finally {
            LinuxMemory.unmap(memory, page);
        }
    }

    @Test
    void madviseOnAnUnalignedAddressIsEinval() {
        Pointer memory = LinuxMemory.mapAnonymous(2 * page);
        try {
            NativeCallException failure = assertThrows(
                    NativeCallException.class,
                    () -> LinuxMemory.madvise(memory.share(1), page, LinuxMemory.MADV_DONTNEED));
            assertEquals("EINVAL", failure.errnoName());
            assertEquals("madvise", failure.call());
            assertTrue(failure.getMessage().contains("MADV_DONTNEED"), failure.getMessage());
            assertTrue(failure.getMessage().contains("length=" + page), failure.getMessage());
        } finally {
            LinuxMemory.unmap(memory, 2 * page);
        }
    }

    @Test
    void munmapOfZeroLengthIsEinval() {
        Pointer memory = LinuxMemory.mapAnonymous(page);
        try {
            NativeCallException failure = assertThrows(NativeCallException.class, () -> LinuxMemory.unmap(memory, 0));
            assertEquals(Errno.EINVAL, failure.errno());
            assertEquals("munmap", failure.call());
        } finally {
            LinuxMemory.unmap(memory, page);
        }
    }

    @Test
    void mmapOfAnImpossibleLengthIsEnomem() {
        NativeCallException failure =
                assertThrows(NativeCallException.class, () -> LinuxMemory.mapAnonymous(Long.MAX_VALUE & -page));
        assertEquals("ENOMEM", failure.errnoName());
        assertTrue(failure.getMessage().startsWith("mmap("), failure.getMessage());
    }

    @Test
    void wipeOnForkRefusesASharedMapping() {
        Pointer shared = LinuxMemory.map(
                null,
                page,
                LinuxMemory.PROT_READ | LinuxMemory.PROT_WRITE,
                LinuxMemory.MAP_SHARED | LinuxMemory.MAP_ANONYMOUS,
                -1,
                0);
        try {
            NativeCallException failure = assertThrows(
                    NativeCallException.class, () -> LinuxMemory.madvise(shared, page, LinuxMemory.MADV_WIPEONFORK));
            assertEquals("EINVAL", failure.errnoName());
        } finally {
            LinuxMemory.unmap(shared, page);
        }
    }

    @Test
    void adviceShowsInSmapsVmFlags() throws IOException {
        Pointer memory = isolated(page);
        try {
            LinuxMemory.madvise(memory, page, LinuxMemory.MADV_DONTDUMP);
            LinuxMemory.madvise(memory, page, LinuxMemory.MADV_WIPEONFORK);
            LinuxMemory.madvise(memory, page, LinuxMemory.MADV_NOHUGEPAGE);
            List<String> flags = SelfMaps.vmFlags(memory);
            assertTrue(flags.containsAll(List.of("dd", "wf", "nh")), flags.toString());
        } finally {
            unmapIsolated(memory, page);
        }
    }

    @Test
    void populateWriteFaultsPagesInAndDontneedReleasesThem() throws IOException {
        long length = 64 * page;
        Pointer memory = isolated(length);
        try {
            LinuxMemory.madvise(memory, length, LinuxMemory.MADV_NOHUGEPAGE);
            assertEquals(0, SelfMaps.smapsField(memory, "Rss"));
            LinuxMemory.madvise(memory, length, LinuxMemory.MADV_POPULATE_WRITE);
            assertEquals(length / 1024, SelfMaps.smapsField(memory, "Rss"));
            assertEquals(0, memory.getByte(length - 1), "new anonymous pages are zero-filled");
            LinuxMemory.madvise(memory, length, LinuxMemory.MADV_DONTNEED);
            assertEquals(0, SelfMaps.smapsField(memory, "Rss"));
        } finally {
            unmapIsolated(memory, length);
        }
    }

    @Test
    void everyListedAdviceIsAcceptedByThisKernel() {
        long length = 4 * page;
        Pointer memory = LinuxMemory.mapAnonymous(length);
        try {
            memory.setByte(0, (byte) 1);
            for (int advice : new int[] {
                LinuxMemory.MADV_FREE,
                LinuxMemory.MADV_COLD,
                LinuxMemory.MADV_PAGEOUT,
                LinuxMemory.MADV_MERGEABLE,
                LinuxMemory.MADV_UNMERGEABLE,
                LinuxMemory.MADV_HUGEPAGE,
                LinuxMemory.MADV_DONTFORK
            }) {
                LinuxMemory.madvise(memory, length, advice);
            }
            // MADV_REMOVE needs shared (shmem) backing: on a private mapping the kernel says EINVAL.
            assertEquals(
                    "EINVAL",
                    assertThrows(
                                    NativeCallException.class,
                                    () -> LinuxMemory.madvise(memory, length, LinuxMemory.MADV_REMOVE))
                            .errnoName());
        } finally {
            LinuxMemory.unmap(memory, length);
        }
    }

    @Test
    void mprotectNoneShowsAsInaccessibleInMaps() throws IOException {
        Pointer memory = LinuxMemory.mapAnonymous(3 * page);
        try {
            LinuxMemory.protect(memory, page, LinuxMemory.PROT_NONE);
            assertEquals("---p", SelfMaps.mapsPermissions(memory));
            assertEquals("rw-p", SelfMaps.mapsPermissions(memory.share(page)));
            assertEquals(
                    "EINVAL",
                    assertThrows(
                                    NativeCallException.class,
                                    () -> LinuxMemory.protect(memory.share(1), page, LinuxMemory.PROT_NONE))
                            .errnoName());
        } finally {
            LinuxMemory.unmap(memory, 3 * page);
        }
    }

    @Test
    void mlockRaisesVmLckAndMunlockLowersIt() throws IOException {
        long length = 16 * page;
        Pointer memory = LinuxMemory.mapAnonymous(length);
        try {
            long before = SelfMaps.statusKib("VmLck");
            try {
                LinuxMemory.lock(memory, length);
            } catch (NativeCallException e) {
                assumeTrue(false, "mlock not allowed here (RLIMIT_MEMLOCK): " + e.getMessage());
            }
            assertEquals(before + length / 1024, SelfMaps.statusKib("VmLck"));
            LinuxMemory.unlock(memory, length);
            assertEquals(before, SelfMaps.statusKib("VmLck"));
        } finally {
            LinuxMemory.unmap(memory, length);
        }
    }

    @Test
    void memfdSecretGivesAMappableDescriptorOrAClearReason() {
        int fd;
        try {
            fd = LinuxMemory.memfdSecret(0);
        } catch (NativeCallException e) {
            assumeTrue(false, "memfd_secret unavailable on this kernel: " + e.getMessage());
            return;
        }
        try {
            LinuxMemory.truncate(fd, page);
            Pointer secret = LinuxMemory.map(
                    null, page, LinuxMemory.PROT_READ | LinuxMemory.PROT_WRITE, LinuxMemory.MAP_SHARED, fd, 0);
            secret.setByte(0, (byte) 42);
            assertEquals(42, secret.getByte(0));
            LinuxMemory.unmap(secret, page);
        } finally {
            LinuxMemory.close(fd);
        }
    }

    @Test
    void memfdSecretRejectsUnknownFlags() {
        NativeCallException failure =
                assertThrows(NativeCallException.class, () -> LinuxMemory.memfdSecret(0x4000_0000));
        assumeTrue(failure.errno() != Errno.ENOSYS, "memfd_secret not available: " + failure.getMessage());
        assertEquals("EINVAL", failure.errnoName());
        assertTrue(failure.getMessage().contains("flags=0x40000000"), failure.getMessage());
    }

    @Test
    void closeOfABadDescriptorIsEbadf() {
        assertEquals(
                "EBADF",
                assertThrows(NativeCallException.class, () -> LinuxMemory.close(-1))
                        .errnoName());
    }

    @Test
    void processMemoryMergeRoundTrips() {
        boolean before;
        try {
            before = LinuxMemory.processMemoryMerge();
        } catch (NativeCallException e) {
            assumeTrue(false, "PR_GET_MEMORY_MERGE needs Linux 6.4: " + e.getMessage());
            return;
        }
        try {
            LinuxMemory.setProcessMemoryMerge(!before);
            assertNotEquals(before, LinuxMemory.processMemoryMerge());
        } catch (NativeCallException e) {
            assumeTrue(
                    e.errno() != Errno.EPERM && e.errno() != Errno.EINVAL,
                    "PR_SET_MEMORY_MERGE not permitted here: " + e.getMessage());
            throw e;
        } finally {
            LinuxMemory.setProcessMemoryMerge(before);
        }
        assertEquals(before, LinuxMemory.processMemoryMerge());
    }

    @Test
    void niceIsPerThread() throws Exception {
        int[] seen = new int[2];
        Thread thread = new Thread(() -> {
            LinuxThread.setCurrentNice(LinuxThread.NICE_MAX);
            seen[0] = LinuxThread.currentNice();
            seen[1] = LinuxThread.currentThreadId();
        });
        int mine = LinuxThread.currentNice();
        thread.start();
        thread.join();
        assertEquals(LinuxThread.NICE_MAX, seen[0]);
        assertNotEquals(LinuxThread.currentThreadId(), seen[1]);
        assertEquals(mine, LinuxThread.currentNice(), "another thread's nice must not change this one's");
        assertThrows(IllegalArgumentException.class, () -> LinuxThread.setCurrentNice(20));
    }

    /** A read-write anonymous mapping fenced by PROT_NONE pages, so no neighbour can merge into it. */
    private Pointer isolated(long lengthBytes) {
        Pointer outer = LinuxMemory.mapAnonymous(lengthBytes + 2 * page);
        LinuxMemory.protect(outer, page, LinuxMemory.PROT_NONE);
        LinuxMemory.protect(outer.share(page + lengthBytes), page, LinuxMemory.PROT_NONE);
        return outer.share(page);
    }

    private void unmapIsolated(Pointer inner, long lengthBytes) {
        LinuxMemory.unmap(inner.share(-page), lengthBytes + 2 * page);
    }
}
