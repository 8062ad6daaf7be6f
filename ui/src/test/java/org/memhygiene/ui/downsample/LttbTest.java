package org.memhygiene.ui.downsample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LttbTest {
    @Test
    void keepsEveryPointOfAShortSeries() {
        double[] x = {0, 1, 2, 3};
        double[] y = {5, 1, 4, 2};
        assertArrayEquals(new int[] {0, 1, 2, 3}, Lttb.select(x, y, 4, 10));
    }

    @Test
    void keepsThresholdPointsAscendingWithBothEnds() {
        int n = 86_400;
        double[] x = new double[n];
        double[] y = new double[n];
        Random random = new Random(7);
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = Math.sin(i / 500.0) + random.nextGaussian() * 0.05;
        }
        int[] kept = Lttb.select(x, y, n, 600);
        assertEquals(600, kept.length);
        assertEquals(0, kept[0]);
        assertEquals(n - 1, kept[kept.length - 1]);
        for (int i = 1; i < kept.length; i++) {
            assertTrue(kept[i] > kept[i - 1], "indices ascend: " + kept[i - 1] + " then " + kept[i]);
        }
    }

    @Test
    void keepsASpikeThatEveryBucketAverageWouldHide() {
        int n = 10_000;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        y[4321] = 1000; // one sample far off a flat line: the largest triangle in its bucket
        int[] kept = Lttb.select(x, y, n, 100);
        assertTrue(Arrays.stream(kept).anyMatch(i -> i == 4321), "the spike at 4321 is kept: " + Arrays.toString(kept));
    }

    @Test
    void picksTheExtremesOfEachBucket() {
        // A square wave: 0 for 50 samples, 10 for 50 samples. Downsampled to 22 points (20 buckets of 5),
        // the kept values are all 0 or 10, and both levels appear.
        int n = 102;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = (i / 10) % 2 == 0 ? 0 : 10;
        }
        int[] kept = Lttb.select(x, y, n, 22);
        assertTrue(Arrays.stream(kept).anyMatch(i -> y[i] == 10)
                && Arrays.stream(kept).anyMatch(i -> y[i] == 0));
    }

    @Test
    void usesOnlyTheFirstNPoints() {
        double[] x = {0, 1, 2, 3, 4, 5, 6, 7};
        double[] y = {0, 0, 0, 0, 0, 9, 9, 9};
        int[] kept = Lttb.select(x, y, 5, 3);
        assertEquals(4, kept[kept.length - 1]);
    }

    @Test
    void refusesAThresholdBelowThree() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Lttb.select(new double[5], new double[5], 5, 2));
        assertTrue(e.getMessage().contains("threshold"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Lttb.select(new double[5], new double[5], 6, 3));
    }
}
