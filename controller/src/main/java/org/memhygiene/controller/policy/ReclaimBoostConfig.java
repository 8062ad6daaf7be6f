package org.memhygiene.controller.policy;

import java.time.Duration;

/**
 * The reclaim boost of {@link AdaptivePolicy} (the {@code reclaim_boost:} section of the policy file;
 * docs/POLICY.md, "Reclaim boost"): after guests' scrubs, ksmd is made to reach the zeroed memory whatever
 * its smart-scan age, within {@code adaptive.cpu_budget_percent}, until the zero-mapped memory stops growing.
 *
 * @param enabled           whether scrubs start a boost at all
 * @param disableSmartScan  whether the boost writes smart_scan=0 (where the kernel has it); false: the scan
 *                          rate alone is raised
 * @param minGrowthPercent  a full scan that maps less than this percentage of the bytes the scrubs zeroed
 *                          to the zero page ends the boost (judged from the third full scan after the scrub)
 * @param maxFullScans      the most full scans one boost lasts, counted from its last scrub
 * @param maxDuration       the longest one boost lasts, counted from its last scrub
 * @param initOnFreeMinPercent a guest whose kernel zeroes what it frees (init_on_free=1, the agent's finding
 *                          guest.init_on_free.on) and whose MemAvailable rose by at least this percentage of its
 *                          memory since the last sample counts as a scrub of that rise; 0: never
 */
public record ReclaimBoostConfig(
        boolean enabled,
        boolean disableSmartScan,
        double minGrowthPercent,
        int maxFullScans,
        Duration maxDuration,
        double initOnFreeMinPercent) {

    public static final ReclaimBoostConfig DEFAULTS =
            new ReclaimBoostConfig(true, true, 1.0, 10, Duration.ofHours(1), 5.0);

    public ReclaimBoostConfig {
        if (maxFullScans < ReclaimBoost.FULL_SCANS_BEFORE_JUDGING) {
            throw new IllegalArgumentException("reclaim_boost.max_full_scans (" + maxFullScans + ") must be at least "
                    + ReclaimBoost.FULL_SCANS_BEFORE_JUDGING + ": the zeroed pages need that many to merge");
        }
    }
}
