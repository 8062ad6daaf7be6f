package org.memhygiene.core.procmem;

/**
 * The bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst; fs/proc/task_mmu.c,
 * {@code PM_*}). Entries stay raw {@code long}s in arrays, so a pass over a million pages allocates nothing.
 * <ul>
 * <li>present: bits 0–54 are the PFN — zero unless the reader has CAP_SYS_ADMIN (since 4.2). Pages of
 *     the shared zero page are present with the zero page's PFN; pages of the huge zero page are present
 *     with its PFNs <em>and</em> {@link #FILE} (the huge zero folio is not anonymous).</li>
 * <li>swapped: bits 0–4 swap type, 5–54 offset (zero without CAP_SYS_ADMIN). A page under migration
 *     shows the same way for a moment.</li>
 * <li>neither: never touched, or given back (MADV_DONTNEED, a punched hole, the balloon).</li>
 * </ul>
 */
public final class PagemapEntry {
    public static final long PFN_MASK = (1L << 55) - 1;
    public static final long SOFT_DIRTY = 1L << 55;
    /** PM_MMAP_EXCLUSIVE (4.2): the page is mapped once; since 6.15 "not maybe mapped shared" for a folio. */
    public static final long EXCLUSIVE = 1L << 56;
    /** PM_GUARD_REGION (6.15): a guard region (MADV_GUARD_INSTALL), never memory. */
    public static final long GUARD = 1L << 58;
    /** PM_FILE (3.5): a file page or shared anonymous (shmem) page, or the huge zero page. */
    public static final long FILE = 1L << 61;

    public static final long SWAPPED = 1L << 62;
    public static final long PRESENT = 1L << 63;

    private PagemapEntry() {}

    public static boolean present(long entry) {
        return (entry & PRESENT) != 0;
    }

    public static boolean swapped(long entry) {
        return (entry & (PRESENT | SWAPPED | GUARD)) == SWAPPED;
    }

    public static boolean exclusive(long entry) {
        return (entry & EXCLUSIVE) != 0;
    }

    public static boolean file(long entry) {
        return (entry & FILE) != 0;
    }

    /** The page frame number of a present page; 0 when the reader lacks CAP_SYS_ADMIN. */
    public static long pfn(long entry) {
        return entry & PFN_MASK;
    }
}
