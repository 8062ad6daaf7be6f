package org.memhygiene.controller.guestmemory;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a {@link GuestMemoryMonitor} may measure (docs/RECLAIM.md, "How a pass reads the pages"): the
 * daemon's {@code guest_memory.method}.
 */
public enum GuestMemoryMethod {
    /**
     * The best this process may use: PAGEMAP_SCAN where the kernel has it (6.7+), with kpageflags for the
     * KSM pages where pagemap shows page frames (CAP_SYS_ADMIN); else pagemap+kpageflags; else smaps_rollup.
     */
    AUTO,
    /** Every page's pagemap entry and kpageflags (needs CAP_SYS_ADMIN), even where PAGEMAP_SCAN exists. */
    PAGEMAP,
    /** PAGEMAP_SCAN alone, KSM pages from ksm_stat, even where page frames could be read. */
    PAGEMAP_SCAN,
    /** smaps_rollup and ksm_stat only: no page states (the reference the pass is measured against). */
    SMAPS_ROLLUP;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The method named {@code text} ("auto", "pagemap", "pagemap_scan", "smaps_rollup"). */
    public static GuestMemoryMethod parse(String text) {
        return Arrays.stream(values())
                .filter(m -> m.label().equals(text))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("\"" + text + "\": expected one of "
                        + Arrays.stream(values()).map(GuestMemoryMethod::label).toList()));
    }
}
