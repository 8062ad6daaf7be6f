package org.memhygiene.core.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.memhygiene.core.canary.CanaryTimings.WriteSummary;

class CanaryTimingsTest {
    @Test
    void theSummaryIsTheLowerMedianAndTheNearestRankP90() {
        // Sorted: 1..10. Lower median: element 4 (value 5); p90: element ceil(9) - 1 = 8 (value 9).
        assertEquals(new WriteSummary(10, 1, 5, 9, 10), WriteSummary.of(new long[] {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
        // 11 values: median element 5 (value 6); p90 element ceil(9.9) - 1 = 9 (value 10).
        assertEquals(
                new WriteSummary(11, 1, 6, 10, 11), WriteSummary.of(new long[] {11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
        assertEquals(new WriteSummary(1, 7, 7, 7, 7), WriteSummary.of(new long[] {7}));
        // 30 values: p90 element 27 - 1 = 26 exactly, where 0.9 × 30 in floating point is not 27.
        long[] thirty = new long[30];
        for (int i = 0; i < 30; i++) {
            thirty[i] = i;
        }
        assertEquals(26, WriteSummary.of(thirty).p90Nanos());
        assertThrows(IllegalArgumentException.class, () -> WriteSummary.of(new long[0]));
    }
}
