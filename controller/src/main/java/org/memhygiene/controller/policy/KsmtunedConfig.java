package org.memhygiene.controller.policy;

/**
 * The tunables of Debian's ksmtuned (/etc/ksmtuned.conf), with its defaults. Memory is in KiB, as
 * ksmtuned reads it from /proc/meminfo.
 *
 * @param monitorIntervalSeconds KSM_MONITOR_INTERVAL: seconds between adjustments
 * @param npagesBoost            KSM_NPAGES_BOOST: pages_to_scan added when free memory is under the threshold
 * @param npagesDecay            KSM_NPAGES_DECAY: pages_to_scan added (negative) when it is not
 * @param npagesMin              KSM_NPAGES_MIN: lower bound of pages_to_scan
 * @param npagesMax              KSM_NPAGES_MAX: upper bound of pages_to_scan
 * @param sleepMillisecsAt16Gib  KSM_SLEEP_MSEC: sleep_millisecs for a 16 GiB host, scaled by host size
 * @param thresholdPercent       KSM_THRES_COEF: threshold as a percentage of MemTotal
 * @param thresholdMinimumKib    KSM_THRES_CONST: the threshold's lower bound in KiB
 */
public record KsmtunedConfig(
        long monitorIntervalSeconds,
        long npagesBoost,
        long npagesDecay,
        long npagesMin,
        long npagesMax,
        long sleepMillisecsAt16Gib,
        long thresholdPercent,
        long thresholdMinimumKib) {

    public static final KsmtunedConfig DEFAULTS = new KsmtunedConfig(60, 300, -50, 64, 1250, 10, 20, 2048);

    public KsmtunedConfig {
        if (monitorIntervalSeconds <= 0) {
            throw new IllegalArgumentException("monitor interval must be positive, was " + monitorIntervalSeconds);
        }
        if (npagesMin < 0 || npagesMax < npagesMin) {
            throw new IllegalArgumentException(
                    "need 0 <= npages_min <= npages_max, was " + npagesMin + ".." + npagesMax);
        }
        if (thresholdPercent < 0 || thresholdPercent > 100) {
            throw new IllegalArgumentException("threshold percent must be 0..100, was " + thresholdPercent);
        }
    }
}
