package org.memhygiene.ui.api;

import java.time.Instant;
import java.util.OptionalLong;

/**
 * A VM's {@code guest_memory} as the controller measured it (docs/RECLAIM.md, docs/API.md): page counts by
 * state, how and when. A count the method does not measure is absent.
 *
 * @param method      the method's label: pagemap+kpageflags, pagemap_scan+kpageflags, pagemap_scan,
 *                    smaps_rollup, simulator (model), none
 * @param description the method with its reason, as the controller prints it
 */
public record GuestMemoryView(
        String method,
        String description,
        long pageSizeBytes,
        long guestRamPages,
        OptionalLong residentPages,
        OptionalLong ksmPages,
        OptionalLong ksmSavedPages,
        OptionalLong zeroPages,
        OptionalLong zeroNeverBackedPages,
        OptionalLong hugeZeroPages,
        OptionalLong swappedPages,
        OptionalLong notPresentPages,
        OptionalLong givenBackPages,
        OptionalLong reclaimedBytes,
        Instant measuredAt) {

    /** Whether the states partition guest RAM page by page (not a smaps_rollup fallback, not "none"). */
    public boolean pageStates() {
        return !method.equals("smaps_rollup") && !method.equals("none");
    }

    /** Of the zero-mapped pages, those that count as reclaimed (docs/RECLAIM.md): all but the never-backed ones. */
    public OptionalLong zeroReclaimedPages() {
        return zeroPages.isPresent()
                ? OptionalLong.of(zeroPages.getAsLong() - zeroNeverBackedPages.orElse(0))
                : OptionalLong.empty();
    }

    /** A page count in bytes; empty stays empty. */
    public OptionalLong bytes(OptionalLong pages) {
        return pages.isPresent() ? OptionalLong.of(pages.getAsLong() * pageSizeBytes) : OptionalLong.empty();
    }
}
