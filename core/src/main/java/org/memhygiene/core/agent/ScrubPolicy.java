package org.memhygiene.core.agent;

/**
 * The agent's scrub policy as the protocol carries it (docs/PROTOCOL.md "set-policy"): the reply to
 * set-policy and part of stats. The request sends any subset of these fields by the same names.
 *
 * @param minHeadroomBytes         MemAvailable a scrub always leaves (floor 32 MiB)
 * @param headroomPercentOfTotal   headroom as a share of MemTotal; the larger of the two applies
 * @param pressureThresholdPercent a scrub stops when /proc/pressure/memory "some avg10" exceeds this
 * @param maxRateBytesPerSecond    average zeroing rate cap; 0 means none
 * @param periodicIntervalMillis   interval of periodic scrubs; 0 means none
 * @param largeFreeThresholdBytes  a fall in used memory that starts a scrub; 0 means off
 * @param largeFreeSampleMillis    interval between the samples that look for such a fall
 * @param triggeredMaxBytes        bytes a periodic or after-a-large-free scrub zeroes at most
 */
public record ScrubPolicy(
        long minHeadroomBytes,
        int headroomPercentOfTotal,
        double pressureThresholdPercent,
        long maxRateBytesPerSecond,
        long periodicIntervalMillis,
        long largeFreeThresholdBytes,
        long largeFreeSampleMillis,
        long triggeredMaxBytes) {}
