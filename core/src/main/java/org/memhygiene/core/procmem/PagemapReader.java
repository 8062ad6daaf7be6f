package org.memhygiene.core.procmem;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Reads a process's /proc/PID/pagemap in batches: one pread(2) per {@code scratch} buffer's worth of
 * pages. Opening needs PTRACE_MODE_READ on the process (its owner, or root); PFNs are reported only when
 * the opener has CAP_SYS_ADMIN, otherwise they read as 0. The open file keeps referring to the process
 * it was opened for: once that exits, reads return nothing, even if its pid is reused.
 * The kernel takes the process's mmap lock for reading per 2 MiB of address space walked, not for the
 * whole read. Not thread-safe.
 */
public final class PagemapReader implements AutoCloseable {
    private final U64File file;
    private final long pageSizeBytes;

    private PagemapReader(U64File file, long pageSizeBytes) {
        this.file = file;
        this.pageSizeBytes = pageSizeBytes;
    }

    /**
     * @param scratch a direct buffer (capacity a multiple of 8) reused for every read; its capacity / 8
     *                is the number of pages one syscall reads
     */
    public static PagemapReader open(Path procRoot, int pid, long pageSizeBytes, ByteBuffer scratch) {
        return new PagemapReader(
                U64File.open(procRoot.resolve(Integer.toString(pid)).resolve("pagemap"), scratch), pageSizeBytes);
    }

    /**
     * The entries of the {@code count} pages from virtual address {@code startAddress} (page-aligned) into
     * {@code out[offset…]}; returns how many were read: fewer than asked only when the process exited
     * (0) or the range runs past the top of its address space.
     */
    public int read(long startAddress, long[] out, int offset, int count) {
        if (startAddress % pageSizeBytes != 0) {
            throw new IllegalArgumentException("address 0x" + Long.toHexString(startAddress) + " is not page-aligned");
        }
        return file.read(Long.divideUnsigned(startAddress, pageSizeBytes), out, offset, count);
    }

    @Override
    public void close() {
        file.close();
    }
}
