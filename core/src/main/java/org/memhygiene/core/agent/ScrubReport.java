package org.memhygiene.core.agent;

/**
 * The result of one scrub of a guest's free memory, as the agent reports it (CLI and protocol).
 *
 * @param outcome          how the scrub ended
 * @param reason           why it ended that way, for people (e.g. "MemAvailable 240 MiB fell under the
 *                         headroom of 256 MiB"); empty when it completed
 * @param bytesZeroed      bytes faulted in zero-filled and released back to the guest kernel
 * @param targetBytes      what the scrub set out to zero: min(maxBytes, MemAvailable - headroom)
 * @param durationMillis   wall time of the scrub
 * @param throughputBytesPerSecond bytesZeroed / duration
 * @param chunksCompleted  chunks mapped, written and released
 * @param chunksAborted    chunks released early because a safety limit tripped
 */
public record ScrubReport(
        Outcome outcome,
        String reason,
        long bytesZeroed,
        long targetBytes,
        long durationMillis,
        double throughputBytesPerSecond,
        int chunksCompleted,
        int chunksAborted) {

    public enum Outcome {
        COMPLETED,
        STOPPED_HEADROOM,
        STOPPED_PRESSURE,
        SKIPPED_INIT_ON_FREE,
        SKIPPED_NOTHING_TO_DO,
        FAILED
    }
}
