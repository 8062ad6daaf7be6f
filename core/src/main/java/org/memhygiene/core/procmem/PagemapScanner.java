package org.memhygiene.core.procmem;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.linux.LinuxFiles;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.NativeCallException;

/**
 * The PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7+; Documentation/admin-guide/mm/pagemap.rst,
 * "PAGEMAP_SCAN IOCTL"; {@code struct pm_scan_arg} and {@code struct page_region} in
 * include/uapi/linux/fs.h). The kernel walks the process's page tables and returns runs of adjacent pages
 * with the same categories, so a run of uniform pages costs one 24-byte region instead of an 8-byte entry
 * per page, and an unpopulated page table costs nothing per page. It needs no page frame numbers, so no
 * CAP_SYS_ADMIN: opening pagemap needs PTRACE_MODE_READ on the process, as for reading it.
 * <p>
 * The categories asked for (fs/proc/task_mmu.c {@code pagemap_page_category}, {@code pagemap_thp_category},
 * read on Linux 6.18): {@link #PAGE_IS_PRESENT}; {@link #PAGE_IS_SWAPPED} (a swap entry; also a page under
 * migration, for a moment); {@link #PAGE_IS_PFNZERO} (mapped to the zero page: the 4 KiB one, or with
 * {@link #PAGE_IS_HUGE} the huge zero page); {@link #PAGE_IS_HUGE} (PMD-mapped: a THP or a HugeTLB page).
 * A page with none of them is not backed (never touched, or given back). Addresses that no mapping covers
 * produce no region. The kernel takes the process's mmap lock for reading while it walks, as pagemap
 * reads do. Not thread-safe.
 */
public final class PagemapScanner implements AutoCloseable {
    public static final long PAGE_IS_PRESENT = 1L << 3;
    public static final long PAGE_IS_SWAPPED = 1L << 4;
    public static final long PAGE_IS_PFNZERO = 1L << 5;
    public static final long PAGE_IS_HUGE = 1L << 6;
    static final long RETURN_MASK = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_HUGE;
    /** _IOWR('f', 16, struct pm_scan_arg): direction 3 << 30 | size 96 << 16 | 'f' << 8 | 16. */
    static final long PAGEMAP_SCAN = 0xC0606610L;

    static final int ARG_BYTES = 96;
    static final int REGION_BYTES = 24;
    private static final int WALK_END_OFFSET = 32;

    /**
     * Regions of one scan, reused: each {@code [start(i), end(i))} with {@code categories(i)}, in address order.
     */
    public static final class Regions {
        private final long[] raw;
        private int count;

        public Regions(int capacity) {
            if (capacity <= 0) {
                throw new IllegalArgumentException("capacity must be positive, got " + capacity);
            }
            raw = new long[capacity * 3];
        }

        public int capacity() {
            return raw.length / 3;
        }

        public int count() {
            return count;
        }

        public long start(int i) {
            return raw[i * 3];
        }

        public long end(int i) {
            return raw[i * 3 + 1];
        }

        public long categories(int i) {
            return raw[i * 3 + 2];
        }
    }

    private final Path file;
    private final int fd;
    private final Memory arg = new Memory(ARG_BYTES);
    private Memory vec = new Memory(REGION_BYTES);
    private boolean closed;

    private PagemapScanner(Path file, int fd) {
        this.file = file;
        this.fd = fd;
    }

    /** Opens /proc/PID/pagemap; a failure is a {@link ProcMemException} (GONE, DENIED, ...). */
    public static PagemapScanner open(Path procRoot, int pid) {
        return open(procRoot.resolve(Integer.toString(pid)).resolve("pagemap"));
    }

    private static PagemapScanner open(Path file) {
        try {
            return new PagemapScanner(file, LinuxFiles.openReadOnly(file));
        } catch (NativeCallException e) {
            throw failure(file, e);
        }
    }

    /**
     * Why this kernel cannot scan, or empty when it can: one scan of this process's own pagemap (ENOTTY
     * before Linux 6.7, or CONFIG_PROC_PAGE_MONITOR off).
     */
    public static Optional<String> unsupportedReason(Path procRoot) {
        try (PagemapScanner self = open(procRoot.resolve("self").resolve("pagemap"))) {
            long page = LinuxMemory.pageSizeBytes();
            self.scan(page, 2 * page, new Regions(1));
            return Optional.empty();
        } catch (ProcMemException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * Scans {@code [startAddress, endAddress)} (page-aligned) into {@code out} (its earlier contents are
     * replaced) and returns the address where the walk stopped: {@code endAddress}, or earlier when
     * {@code out} filled up — scan again from there.
     */
    public long scan(long startAddress, long endAddress, Regions out) {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        int capacity = out.capacity();
        if (vec.size() < (long) capacity * REGION_BYTES) {
            vec = new Memory((long) capacity * REGION_BYTES);
        }
        arg.clear();
        arg.setLong(0, ARG_BYTES);
        arg.setLong(16, startAddress);
        arg.setLong(24, endAddress);
        arg.setLong(40, Pointer.nativeValue(vec));
        arg.setLong(48, capacity);
        arg.setLong(88, RETURN_MASK);
        int regions;
        try {
            regions = LinuxFiles.ioctl(
                    fd,
                    PAGEMAP_SCAN,
                    arg,
                    "PAGEMAP_SCAN 0x" + Long.toHexString(startAddress) + "-0x" + Long.toHexString(endAddress));
        } catch (NativeCallException e) {
            throw failure(file, e);
        }
        vec.read(0, out.raw, 0, regions * 3);
        out.count = regions;
        return arg.getLong(WALK_END_OFFSET);
    }

    private static ProcMemException failure(Path file, NativeCallException e) {
        ProcMemException.Kind kind = switch (e.errno()) {
            case Errno.ESRCH -> ProcMemException.Kind.GONE;
            case Errno.ENOENT ->
                file.getParent() != null && !Files.isDirectory(file.getParent())
                        ? ProcMemException.Kind.GONE
                        : ProcMemException.Kind.ABSENT;
            case Errno.EACCES, Errno.EPERM -> ProcMemException.Kind.DENIED;
            case Errno.ENOTTY, Errno.EINVAL -> ProcMemException.Kind.ABSENT;
            default -> ProcMemException.Kind.IO;
        };
        String what = switch (kind) {
            case GONE -> "the process exited";
            case ABSENT ->
                e.errno() == Errno.ENOTTY || e.errno() == Errno.EINVAL
                        ? "PAGEMAP_SCAN is not in this kernel (Linux 6.7+): " + e.getMessage()
                        : "absent in this kernel";
            case DENIED -> "permission denied (" + e.getMessage() + ")";
            default -> e.getMessage();
        };
        return new ProcMemException(kind, file, what);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LinuxMemory.close(fd);
        }
    }
}
