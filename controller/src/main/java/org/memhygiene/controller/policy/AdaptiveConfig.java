package org.memhygiene.controller.policy;

import java.time.Duration;

/**
 * The thresholds of {@link AdaptivePolicy} (the {@code adaptive:} section of the policy file;
 * controller/src/main/dist/policy.yaml documents each key and docs/POLICY.md each rule).
 *
 * @param memoryTightBelowPercent     MemAvailable under this percentage of MemTotal: memory is tight
 * @param memoryPlentifulAbovePercent MemAvailable over this percentage, and the guests' current memory
 *                                    fits under MemTotal less the tight threshold: KSM is not needed
 * @param cpuBudgetPercent            ksmd's CPU budget, percent of one core
 * @param yieldGood                   merged pages per scanned page at or above which scanning more pays
 * @param yieldLow                    merged pages per scanned page under which an interval merged nothing
 * @param yieldLowIntervals           low-yield intervals in a row before backing off
 * @param yieldMinPagesScanned        fewer pages scanned in an interval: its yield is not measured
 * @param pagesToScanMin              lower bound of pages_to_scan (also where KSM starts)
 * @param pagesToScanMax              upper bound of pages_to_scan
 * @param sleepMillisecsMin           lower bound of sleep_millisecs (also where KSM starts)
 * @param sleepMillisecsMax           upper bound of sleep_millisecs
 * @param noYieldRetry                after stopping KSM for lack of yield, how long before trying again
 */
public record AdaptiveConfig(
        int memoryTightBelowPercent,
        int memoryPlentifulAbovePercent,
        double cpuBudgetPercent,
        double yieldGood,
        double yieldLow,
        int yieldLowIntervals,
        long yieldMinPagesScanned,
        long pagesToScanMin,
        long pagesToScanMax,
        long sleepMillisecsMin,
        long sleepMillisecsMax,
        Duration noYieldRetry) {

    public static final AdaptiveConfig DEFAULTS =
            new AdaptiveConfig(20, 40, 5.0, 0.05, 0.001, 3, 1000, 100, 10_000, 20, 2000, Duration.ofMinutes(30));

    public AdaptiveConfig {
        if (memoryPlentifulAbovePercent < memoryTightBelowPercent) {
            throw new IllegalArgumentException("adaptive.memory_plentiful_above_percent (" + memoryPlentifulAbovePercent
                    + ") must not be under adaptive.memory_tight_below_percent (" + memoryTightBelowPercent + ")");
        }
        if (yieldLow > yieldGood) {
            throw new IllegalArgumentException(
                    "adaptive.yield_low (" + yieldLow + ") must not exceed adaptive.yield_good (" + yieldGood + ")");
        }
        if (pagesToScanMin > pagesToScanMax) {
            throw new IllegalArgumentException("adaptive.pages_to_scan_min (" + pagesToScanMin
                    + ") must not exceed adaptive.pages_to_scan_max (" + pagesToScanMax + ")");
        }
        if (sleepMillisecsMin > sleepMillisecsMax) {
            throw new IllegalArgumentException("adaptive.sleep_millisecs_min (" + sleepMillisecsMin
                    + ") must not exceed adaptive.sleep_millisecs_max (" + sleepMillisecsMax + ")");
        }
    }
}
