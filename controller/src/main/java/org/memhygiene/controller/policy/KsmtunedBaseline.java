package org.memhygiene.controller.policy;

/**
 * The policy of Debian's ksmtuned (/usr/sbin/ksmtuned), step for step, so that memhygiene's baseline
 * mode decides what ksmtuned would on the same inputs (docs/POLICY.md describes the algorithm).
 * Integer arithmetic as in bash's $[...]. Not thread-safe: one instance per policy loop.
 */
public final class KsmtunedBaseline {
    /** What ksmtuned reads at each adjustment, in KiB. */
    public record Input(long memTotalKib, long freeKib, long committedKib) {}

    /** What ksmtuned writes: run=0, or pages_to_scan, sleep_millisecs and run=1. */
    public record Decision(boolean run, long pagesToScan, long sleepMillisecs, String reason) {}

    private final KsmtunedConfig config;
    private long npages;

    public KsmtunedBaseline(KsmtunedConfig config) {
        this.config = config;
    }

    public Decision adjust(Input input) {
        long total = input.memTotalKib();
        if (total <= 0) {
            throw new IllegalArgumentException("MemTotal must be positive, was " + total + " KiB");
        }
        // sleep = KSM_SLEEP_MSEC * 16 GiB / MemTotal, at least 10 ms: big hosts scan more often.
        long sleep = Math.max(10, config.sleepMillisecsAt16Gib() * 16 * 1024 * 1024 / total);
        long thres = Math.max(config.thresholdMinimumKib(), total * config.thresholdPercent() / 100);
        long free = input.freeKib();
        long committed = input.committedKib();
        if (committed + thres < total && free > thres) {
            return new Decision(
                    false,
                    npages,
                    sleep,
                    "committed " + committed + " KiB + threshold " + thres + " KiB < MemTotal " + total
                            + " KiB and free " + free + " KiB > threshold: stop KSM");
        }
        String why;
        if (free < thres) {
            npages = clamp(npages + config.npagesBoost());
            why = "free " + free + " KiB < threshold " + thres + " KiB: boost pages_to_scan by " + config.npagesBoost();
        } else {
            npages = clamp(npages + config.npagesDecay());
            why = "free " + free + " KiB >= threshold " + thres + " KiB: decay pages_to_scan by "
                    + config.npagesDecay();
        }
        return new Decision(
                true,
                npages,
                sleep,
                "committed " + committed + " KiB + threshold " + thres + " KiB >= MemTotal " + total
                        + " KiB or free is low; " + why);
    }

    private long clamp(long value) {
        return Math.min(config.npagesMax(), Math.max(config.npagesMin(), value));
    }
}
