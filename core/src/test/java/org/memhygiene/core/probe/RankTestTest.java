package org.memhygiene.core.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Against scipy 1.17's mannwhitneyu(x, y, alternative="greater", method="asymptotic", use_continuity=True). */
class RankTestTest {
    @Test
    void smallSamplesWithTiesAgreeWithScipy() {
        long[] x = {5, 5, 5, 7, 9, 9};
        long[] y = {1, 5, 5, 6, 6, 9, 2};
        RankTest greater = RankTest.greater(x, y);
        assertEquals(28.0, greater.u());
        assertEquals(0.16797412571429138, greater.pValue(), 1e-6);
        assertFalse(greater.significant());
        RankTest reversed = RankTest.greater(y, x);
        assertEquals(14.0, reversed.u());
        assertEquals(0.8665506457646805, reversed.pValue(), 1e-6);
        assertEquals(5, greater.slowerMedianNanos());
        assertEquals(5, greater.fasterMedianNanos());
    }

    @Test
    void aProbeSizedSampleThatIsSlowerIsSignificant() {
        long[] canary =
                IntStream.range(0, 256).mapToLong(i -> 100 + (i * 37 % 300)).toArray();
        long[] control =
                IntStream.range(0, 256).mapToLong(i -> 100 + (i * 53 % 200)).toArray();
        RankTest test = RankTest.greater(canary, control);
        assertEquals(43758.0, test.u());
        assertEquals(2.5915346002919138e-11, test.pValue(), 2.6e-11 * 1e-5);
        assertTrue(test.significant());
    }

    @Test
    void theSameDistributionIsNotSignificant() {
        long[] canary =
                IntStream.range(0, 256).mapToLong(i -> 150 + (i * 7 % 40)).toArray();
        long[] control =
                IntStream.range(0, 256).mapToLong(i -> 150 + (i * 11 % 40)).toArray();
        RankTest test = RankTest.greater(canary, control);
        assertEquals(32768.0, test.u());
        assertEquals(0.5001192087459271, test.pValue(), 1e-6);
        assertFalse(test.significant());
    }

    @Test
    void allValuesEqualIsNotSignificantAndEmptyIsRefused() {
        assertEquals(1, RankTest.greater(new long[] {3, 3}, new long[] {3, 3}).pValue());
        assertThrows(IllegalArgumentException.class, () -> RankTest.greater(new long[0], new long[] {1}));
    }
}
