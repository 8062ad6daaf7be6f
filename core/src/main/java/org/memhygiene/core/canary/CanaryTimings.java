package org.memhygiene.core.canary;

import java.util.Arrays;
import java.util.List;

/**
 * The reply to canary-time (docs/PROTOCOL.md): one write to every canary and control page, timed with the
 * monotonic clock, in one random order that interleaves the two kinds.
 *
 * @param nonce                the probe's nonce, lowercase hex
 * @param clockResolutionNanos clock_getres(CLOCK_MONOTONIC), the clock System.nanoTime reads on Linux
 * @param canary               the writes to the canary pages
 * @param control              the writes to the control pages
 */
public record CanaryTimings(String nonce, long clockResolutionNanos, PageWrites canary, PageWrites control) {

    /**
     * The writes to one kind of page; the three lists are parallel, one entry per page.
     *
     * @param pageIndices    which page of its kind each write went to (0 to pages − 1, each once)
     * @param writePositions where in the interleaved sequence of all writes (0 to 2 × pages − 1) it came
     * @param nanos          how long it took
     * @param summary        the distribution of {@code nanos}
     */
    public record PageWrites(
            List<Integer> pageIndices, List<Integer> writePositions, List<Long> nanos, WriteSummary summary) {}

    /**
     * Order statistics of write times: the median is the lower median (element ⌊(count − 1) / 2⌋ of the
     * sorted times), p90 the nearest rank (element ⌈0.9 × count⌉ − 1).
     */
    public record WriteSummary(int count, long minNanos, long medianNanos, long p90Nanos, long maxNanos) {

        public static WriteSummary of(long[] nanos) {
            if (nanos.length == 0) {
                throw new IllegalArgumentException("no write times to summarise");
            }
            long[] sorted = nanos.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            return new WriteSummary(n, sorted[0], sorted[(n - 1) / 2], sorted[(9 * n + 9) / 10 - 1], sorted[n - 1]);
        }
    }
}
