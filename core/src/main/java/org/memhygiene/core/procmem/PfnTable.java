package org.memhygiene.core.procmem;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A PFN-indexed table of the kernel: /proc/kpageflags (each page frame's flags, {@link KPageFlags}) or
 * /proc/kpagecount (how many times each frame is mapped: for a KSM page, by every process sharing it;
 * 0 for the zero pages, which are not counted). Both are readable by root only (mode 0400), and only
 * a reader with CAP_SYS_ADMIN gets the PFNs to look up from pagemap. Since Linux 6.15 (CONFIG_NO_PAGE_MAPCOUNT) kpagecount
 * gives the average mapcount of a large folio's pages; for small pages, KSM pages among them, it is exact.
 * <p>
 * {@link #lookup} reads many PFNs with few syscalls: sorted PFNs no more than {@code maxGap} apart share
 * one read. The kernel's own work per PFN read (about 0.2 µs here) is close to a syscall's, so reading
 * across a gap pays only when it is a PFN or two. Not thread-safe.
 */
public final class PfnTable implements AutoCloseable {
    public static final int DEFAULT_MAX_GAP = 2;

    private final U64File file;
    private final int maxGap;
    private final long[] run;

    private PfnTable(U64File file, int maxGap) {
        this.file = file;
        this.maxGap = maxGap;
        this.run = new long[file.capacityEntries()];
    }

    public static PfnTable openFlags(Path procRoot, ByteBuffer scratch) {
        return new PfnTable(U64File.open(procRoot.resolve("kpageflags"), scratch), DEFAULT_MAX_GAP);
    }

    public static PfnTable openCounts(Path procRoot, ByteBuffer scratch) {
        return new PfnTable(U64File.open(procRoot.resolve("kpagecount"), scratch), DEFAULT_MAX_GAP);
    }

    /** The entry of one PFN. */
    public long get(long pfn) {
        long[] one = new long[1];
        lookup(new long[] {pfn}, 1, one);
        return one[0];
    }

    /**
     * {@code out[i]} = the entry of {@code sortedPfns[i]}, for {@code i < count}; the PFNs must be
     * ascending (duplicates allowed) and frames the kernel has (from pagemap): a read that ends before
     * one of them is an error, not a 0.
     */
    public void lookup(long[] sortedPfns, int count, long[] out) {
        int i = 0;
        while (i < count) {
            long first = sortedPfns[i];
            int j = i + 1;
            while (j < count && sortedPfns[j] - sortedPfns[j - 1] <= maxGap && sortedPfns[j] - first < run.length) {
                j++;
            }
            int length = (int) (sortedPfns[j - 1] - first + 1);
            int read = file.read(first, run, 0, length);
            if (read < length) {
                throw new ProcMemException(
                        ProcMemException.Kind.MALFORMED,
                        file.path(),
                        "ends before PFN 0x" + Long.toHexString(first + read) + ", a frame pagemap reported");
            }
            for (int k = i; k < j; k++) {
                out[k] = run[(int) (sortedPfns[k] - first)];
            }
            i = j;
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
