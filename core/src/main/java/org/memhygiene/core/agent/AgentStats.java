package org.memhygiene.core.agent;

/**
 * The reply to stats (docs/PROTOCOL.md): the guest's /proc/meminfo figures, its scrub counters and the
 * scrub policy in force.
 */
public record AgentStats(long memTotalBytes, long memAvailableBytes, ScrubCounters scrub, ScrubPolicy policy) {}
