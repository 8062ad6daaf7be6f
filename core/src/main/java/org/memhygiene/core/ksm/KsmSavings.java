package org.memhygiene.core.ksm;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What KSM saves, with the kernel's accounting (Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM
 * profit"): pages_sharing is "how much saved"; with use_zero_pages=1, pages merged with the kernel's
 * zero page count in ksm_zero_pages instead, so they are saved too.
 *
 * @param savedBySharingBytes     pages_sharing x page size
 * @param savedByZeroPagesBytes   ksm_zero_pages x page size; absent where the kernel lacks the counter
 * @param savedTotalBytes         the two together
 * @param sharingRatio            pages_sharing / pages_shared: how many extra mappings each KSM page
 *                                serves (high is good; at most max_page_sharing); absent when nothing is shared
 * @param unsharedRatio           pages_unshared / pages_sharing: effort spent on pages that never merge
 *                                (high means wasted scanning); absent when nothing is sharing
 * @param generalProfitBytes      the kernel's general_profit where present, else the documented
 *                                approximation: saved pages x page size - rmap_items x 64 bytes
 * @param generalProfitEstimated  true when generalProfitBytes is the approximation
 */
public record KsmSavings(
        OptionalLong savedBySharingBytes,
        OptionalLong savedByZeroPagesBytes,
        OptionalLong savedTotalBytes,
        OptionalDouble sharingRatio,
        OptionalDouble unsharedRatio,
        OptionalLong generalProfitBytes,
        boolean generalProfitEstimated) {

    /** sizeof(struct ksm_rmap_item) on 64-bit kernels, per ksm.rst. */
    public static final long RMAP_ITEM_BYTES = 64;

    public static KsmSavings of(KsmStats s, long pageSizeBytes) {
        OptionalLong bySharing = times(s.pagesSharing(), pageSizeBytes);
        OptionalLong byZero = times(s.ksmZeroPages(), pageSizeBytes);
        OptionalLong total = bySharing.isPresent()
                ? OptionalLong.of(bySharing.getAsLong() + byZero.orElse(0))
                : OptionalLong.empty();
        OptionalDouble sharingRatio = ratio(s.pagesSharing(), s.pagesShared());
        OptionalDouble unsharedRatio = ratio(s.pagesUnshared(), s.pagesSharing());
        OptionalLong profit = s.generalProfitBytes();
        boolean estimated = false;
        if (profit.isEmpty()
                && total.isPresent()
                && s.pagesShared().isPresent()
                && s.pagesUnshared().isPresent()
                && s.pagesVolatile().isPresent()) {
            long rmapItems = s.pagesSharing().getAsLong()
                    + s.pagesShared().getAsLong()
                    + s.pagesUnshared().getAsLong()
                    + s.pagesVolatile().getAsLong();
            profit = OptionalLong.of(total.getAsLong() - rmapItems * RMAP_ITEM_BYTES);
            estimated = true;
        }
        return new KsmSavings(bySharing, byZero, total, sharingRatio, unsharedRatio, profit, estimated);
    }

    private static OptionalLong times(OptionalLong pages, long pageSizeBytes) {
        return pages.isPresent() ? OptionalLong.of(pages.getAsLong() * pageSizeBytes) : OptionalLong.empty();
    }

    private static OptionalDouble ratio(OptionalLong numerator, OptionalLong denominator) {
        if (numerator.isEmpty() || denominator.isEmpty() || denominator.getAsLong() == 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of((double) numerator.getAsLong() / denominator.getAsLong());
    }
}
