package org.memhygiene.agent.scrub;

import java.util.Optional;
import org.memhygiene.core.agent.ScrubReport;

/**
 * Cumulative scrub figures since the agent started, for its {@code stats} message.
 *
 * @param scrubsRun        scrubs that produced a report, whatever their outcome
 * @param totalBytesZeroed sum of {@link ScrubReport#bytesZeroed()} over those scrubs
 * @param lastReport       the latest report; empty before the first scrub
 */
public record ScrubCounters(long scrubsRun, long totalBytesZeroed, Optional<ScrubReport> lastReport) {

    static final ScrubCounters NONE = new ScrubCounters(0, 0, Optional.empty());

    ScrubCounters plus(ScrubReport report) {
        return new ScrubCounters(scrubsRun + 1, totalBytesZeroed + report.bytesZeroed(), Optional.of(report));
    }
}
