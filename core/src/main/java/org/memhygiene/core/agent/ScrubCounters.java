package org.memhygiene.core.agent;

import java.util.Optional;

/**
 * Cumulative scrub figures since the agent started, for its {@code stats} message.
 *
 * @param scrubsRun        scrubs that produced a report, whatever their outcome
 * @param totalBytesZeroed sum of {@link ScrubReport#bytesZeroed()} over those scrubs
 * @param lastReport       the latest report; empty before the first scrub
 */
public record ScrubCounters(long scrubsRun, long totalBytesZeroed, Optional<ScrubReport> lastReport) {

    public static final ScrubCounters NONE = new ScrubCounters(0, 0, Optional.empty());

    public ScrubCounters plus(ScrubReport report) {
        return new ScrubCounters(scrubsRun + 1, totalBytesZeroed + report.bytesZeroed(), Optional.of(report));
    }
}
