package org.memhygiene.controller.libvirt;

import java.time.Duration;

/**
 * How {@link LibvirtHost} reopens a lost connection: up to {@code maxAttempts} opens, the waits between
 * them doubling from {@code initialDelay} up to {@code maxDelay}. The default rides out a libvirtd
 * restart (a few seconds) without hammering a host where libvirtd is down for good.
 */
public record ReconnectPolicy(Duration initialDelay, Duration maxDelay, int maxAttempts) {
    public static final ReconnectPolicy DEFAULT =
            new ReconnectPolicy(Duration.ofMillis(500), Duration.ofSeconds(30), 8);
    /**
     * One attempt per call, no waiting: for a caller that retries on its own schedule (the daemon's loop,
     * every interval), where a wait would hold up everything else it does.
     */
    public static final ReconnectPolicy ONCE = new ReconnectPolicy(Duration.ZERO, Duration.ZERO, 1);

    public ReconnectPolicy {
        if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException(
                    "need 0 <= initialDelay <= maxDelay, was " + initialDelay + ", " + maxDelay);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
        }
    }

    /** The wait after {@code delay}: doubled, at most {@link #maxDelay()}. */
    Duration next(Duration delay) {
        Duration doubled = delay.multipliedBy(2);
        return doubled.compareTo(maxDelay) > 0 ? maxDelay : doubled;
    }
}
