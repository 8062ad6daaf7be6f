package org.memhygiene.controller.policy;

/**
 * ksmd's scan rate as its two knobs (it scans pages_to_scan pages, then sleeps sleep_millisecs), and the
 * steps the adaptive rules take on it within {@link AdaptiveConfig}'s bounds.
 */
record ScanRate(long pagesToScan, long sleepMillisecs) {
    /** A scale-up smaller than this is not worth a write. */
    static final double MIN_STEP_UP = 1.1;

    private static final double MAX_STEP_UP = 2.0;

    /** The current knobs brought inside the configured bounds. */
    static ScanRate within(long pagesToScan, long sleepMillisecs, AdaptiveConfig bounds) {
        return new ScanRate(
                clamp(pagesToScan, bounds.pagesToScanMin(), bounds.pagesToScanMax()),
                clamp(sleepMillisecs, bounds.sleepMillisecsMin(), bounds.sleepMillisecsMax()));
    }

    /**
     * How much faster ksmd may scan with {@code cpuPercent} of a core measured against {@code budgetPercent}:
     * at most twice, and 1 (hold) when the headroom is under 10 %.
     */
    static double stepUp(double cpuPercent, double budgetPercent) {
        double factor = Math.min(MAX_STEP_UP, budgetPercent / Math.max(cpuPercent, 0.01));
        return factor < MIN_STEP_UP ? 1 : factor;
    }

    /** Whether pages_to_scan can grow or sleep_millisecs shrink. */
    boolean canGoFaster(AdaptiveConfig bounds) {
        return pagesToScan < bounds.pagesToScanMax() || sleepMillisecs > bounds.sleepMillisecsMin();
    }

    /** Scan more by {@code factor} (over 1): pages_to_scan × factor up to the maximum; at it, sleep ÷ factor. */
    ScanRate faster(double factor, AdaptiveConfig bounds) {
        if (pagesToScan < bounds.pagesToScanMax()) {
            return new ScanRate(
                    Math.min(bounds.pagesToScanMax(), (long) Math.ceil(pagesToScan * factor)), sleepMillisecs);
        }
        return new ScanRate(
                pagesToScan, Math.max(bounds.sleepMillisecsMin(), (long) Math.floor(sleepMillisecs / factor)));
    }

    /** Whether pages_to_scan can shrink or sleep_millisecs grow. */
    boolean canGoSlower(AdaptiveConfig bounds) {
        return pagesToScan > bounds.pagesToScanMin() || sleepMillisecs < bounds.sleepMillisecsMax();
    }

    /**
     * Scan less by {@code factor} (under 1): pages_to_scan × factor down to the minimum; already at it,
     * sleep_millisecs doubles up to the maximum.
     */
    ScanRate slower(double factor, AdaptiveConfig bounds) {
        if (pagesToScan > bounds.pagesToScanMin()) {
            return new ScanRate(
                    Math.max(bounds.pagesToScanMin(), (long) Math.floor(pagesToScan * factor)), sleepMillisecs);
        }
        return new ScanRate(
                pagesToScan, Math.min(bounds.sleepMillisecsMax(), Math.max(sleepMillisecs + 1, sleepMillisecs * 2)));
    }

    private static long clamp(long value, long min, long max) {
        return Math.max(min, Math.min(max, value));
    }
}
