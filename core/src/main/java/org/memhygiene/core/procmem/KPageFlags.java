package org.memhygiene.core.procmem;

/**
 * The /proc/kpageflags bits memhygiene reads (include/uapi/linux/kernel-page-flags.h,
 * Documentation/admin-guide/mm/pagemap.rst; {@code stable_page_flags()} in fs/proc/page.c).
 */
public final class KPageFlags {
    public static final long ANON = 1L << 12;
    /** Part of a HugeTLB page. */
    public static final long HUGE = 1L << 17;
    /** A KSM page: anonymous memory merged by ksmd, shared by every mapping kpagecount counts. */
    public static final long KSM = 1L << 21;
    /** Part of a transparent huge page: any large anonymous or page-cache folio, not only PMD-sized; set with ZERO_PAGE on the huge zero page. */
    public static final long THP = 1L << 22;
    /** The shared zero page, or (with THP) the huge zero page. */
    public static final long ZERO_PAGE = 1L << 24;

    private KPageFlags() {}

    public static boolean has(long flags, long bit) {
        return (flags & bit) != 0;
    }
}
