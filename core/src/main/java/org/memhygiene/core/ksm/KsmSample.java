package org.memhygiene.core.ksm;

import java.time.Instant;

/**
 * A {@link KsmStats} reading with the time it was taken.
 *
 * @param takenAt         wall-clock time, for display and history
 * @param monotonicNanos  System.nanoTime() at the reading, for rates (immune to clock steps)
 * @param pageSizeBytes   the host's page size, which every page counter is multiplied by
 */
public record KsmSample(Instant takenAt, long monotonicNanos, long pageSizeBytes, KsmStats stats) {
    public KsmSample {
        if (pageSizeBytes <= 0) {
            throw new IllegalArgumentException("pageSizeBytes must be positive, was " + pageSizeBytes);
        }
    }

    public KsmSavings savings() {
        return KsmSavings.of(stats, pageSizeBytes);
    }
}
