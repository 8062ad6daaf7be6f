package org.memhygiene.controller.policy;

import java.time.Duration;

/**
 * When {@link AdaptivePolicy} asks guests to scrub (the {@code scrub:} section of the policy file).
 *
 * @param enabled                whether it asks at all
 * @param minGuestFreeBytes      a guest is asked only when its agent reports at least this MemAvailable
 * @param maxBytesPerRequest     the most one request asks a guest to zero
 * @param maxRequestsPerDecision the most guests asked in one decision
 * @param minIntervalPerVm       the least time between two requests to the same guest
 */
public record ScrubRules(
        boolean enabled,
        long minGuestFreeBytes,
        long maxBytesPerRequest,
        int maxRequestsPerDecision,
        Duration minIntervalPerVm) {

    public static final ScrubRules DEFAULTS = new ScrubRules(true, 1L << 30, 512L << 20, 2, Duration.ofMinutes(10));
}
