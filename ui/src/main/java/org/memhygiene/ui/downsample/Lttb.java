package org.memhygiene.ui.downsample;

/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson, "Downsampling Time Series for Visual
 * Representation", 2013, ch. 4): keeps the first and last point and, from each of {@code threshold - 2}
 * equal buckets in between, the point that forms the largest triangle with the point kept before it
 * and the average of the next bucket. The shape of a long series survives with a few hundred points,
 * so a chart of 24 h at 1 s draws as fast as one of a few minutes. NaN values count as 0 for the
 * choice (they are drawn as gaps elsewhere).
 */
public final class Lttb {
    private Lttb() {}

    /**
     * The indices (ascending) of the points to keep from {@code x[0..n)}, {@code y[0..n)}; all of them when
     * {@code n <= threshold}.
     *
     * @param threshold how many points to keep, at least 3
     */
    public static int[] select(double[] x, double[] y, int n, int threshold) {
        if (threshold < 3) {
            throw new IllegalArgumentException("threshold must be at least 3, was " + threshold);
        }
        if (n > x.length || n > y.length) {
            throw new IllegalArgumentException("n = " + n + " exceeds the arrays (" + x.length + ", " + y.length + ")");
        }
        if (n <= threshold) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] kept = new int[threshold];
        kept[0] = 0;
        double bucketSize = (double) (n - 2) / (threshold - 2);
        int a = 0;
        for (int bucket = 0; bucket < threshold - 2; bucket++) {
            int from = (int) Math.floor(bucket * bucketSize) + 1;
            int to = (int) Math.floor((bucket + 1) * bucketSize) + 1;
            int nextFrom = to;
            int nextTo = Math.min((int) Math.floor((bucket + 2) * bucketSize) + 1, n);
            if (bucket == threshold - 3) {
                nextFrom = n - 1;
                nextTo = n;
            }
            double avgX = 0;
            double avgY = 0;
            for (int i = nextFrom; i < nextTo; i++) {
                avgX += x[i];
                avgY += value(y[i]);
            }
            int count = nextTo - nextFrom;
            avgX /= count;
            avgY /= count;
            double ax = x[a];
            double ay = value(y[a]);
            double best = -1;
            int bestIndex = from;
            for (int i = from; i < to; i++) {
                double area = Math.abs((ax - avgX) * (value(y[i]) - ay) - (ax - x[i]) * (avgY - ay));
                if (area > best) {
                    best = area;
                    bestIndex = i;
                }
            }
            kept[bucket + 1] = bestIndex;
            a = bestIndex;
        }
        kept[threshold - 1] = n - 1;
        return kept;
    }

    private static double value(double v) {
        return Double.isNaN(v) ? 0 : v;
    }
}
