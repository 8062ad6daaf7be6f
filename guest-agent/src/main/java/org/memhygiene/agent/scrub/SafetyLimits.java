package org.memhygiene.agent.scrub;

import java.util.OptionalDouble;

/**
 * The rule every allocation of the agent keeps (docs/SCRUBBING.md "Safety limits"): MemAvailable stays
 * above the headroom (the larger of min_headroom_bytes and headroom_percent_of_total of MemTotal), and
 * nothing is taken while memory pressure (PSI "some avg10") is above the threshold. The scrubber checks
 * it before every step; the canary before it plants.
 */
public final class SafetyLimits {
    private static final long MIB = 1024 * 1024;

    private final ProcMemory proc;

    public SafetyLimits(ProcMemory proc) {
        this.proc = proc;
    }

    /** Which limit, and a sentence with the figures. */
    public record Crossed(Limit limit, String reason) {}

    public enum Limit {
        HEADROOM,
        PRESSURE
    }

    /** Null when {@code moreBytes} more may be taken now under {@code config}, else which limit forbids it. */
    public Crossed crossed(ScrubConfig config, long moreBytes) {
        MemInfo memory = proc.memInfo();
        // MemTotal can change (balloon, hotplug): recompute the headroom each time.
        long headroom = config.headroomBytes(memory.memTotalBytes());
        if (memory.memAvailableBytes() - moreBytes < headroom) {
            return new Crossed(
                    Limit.HEADROOM,
                    "MemAvailable " + mib(memory.memAvailableBytes())
                            + (moreBytes == 0 ? " fell" : " less " + mib(moreBytes) + " would fall")
                            + " under the headroom of "
                            + mib(headroom));
        }
        OptionalDouble pressure = proc.memorySomeAvg10Percent();
        if (pressure.isPresent() && pressure.getAsDouble() > config.pressureThresholdPercent()) {
            return new Crossed(
                    Limit.PRESSURE,
                    String.format(
                            "memory pressure some avg10=%.2f%% passed the threshold of %.2f%%",
                            pressure.getAsDouble(), config.pressureThresholdPercent()));
        }
        return null;
    }

    static String mib(long bytes) {
        return bytes / MIB + " MiB";
    }
}
