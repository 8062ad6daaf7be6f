package org.memhygiene.core.probe;

import java.util.Arrays;

/**
 * The one-sided Mann-Whitney rank-sum test (Wilcoxon's rank-sum test): are the values of {@code slower}
 * stochastically larger than those of {@code faster}? The canary probe's guest view asks it of write times:
 * canary pages that the host merged take a copy-on-write fault on the first write, control pages do not.
 * A rank test, not a comparison of means: write times are skewed, with rare long outliers (an interrupt, a
 * vCPU preempted) in both kinds. Computed as scipy.stats.mannwhitneyu(slower, faster, alternative="greater",
 * method="asymptotic", use_continuity=True) does: midranks for ties, the tie-corrected variance, a continuity
 * correction of 0.5 and the normal approximation, good for the hundreds of values a probe has (Mann and
 * Whitney, Ann. Math. Statist. 18, 1947). Written here rather than taken from Apache Commons Math
 * (MannWhitneyUTest): that one is two-sided only and leaves ties out of the variance, and write times on a
 * nanosecond clock tie often; one class does not earn a dependency of the controller.
 *
 * @param slowerMedianNanos the lower median of {@code slower}
 * @param fasterMedianNanos the lower median of {@code faster}
 * @param u                 U of {@code slower}: how many (slower, faster) pairs the slower value wins, ties half
 * @param z                 the standardized U
 * @param pValue            one-sided: the chance of a U this large if both came from one distribution
 */
public record RankTest(long slowerMedianNanos, long fasterMedianNanos, double u, double z, double pValue) {
    /** The probe's significance level: observed only when p is below it. */
    public static final double ALPHA = 0.001;

    public static RankTest greater(long[] slower, long[] faster) {
        int n1 = slower.length;
        int n2 = faster.length;
        if (n1 == 0 || n2 == 0) {
            throw new IllegalArgumentException("a rank test needs values on both sides, got " + n1 + " and " + n2);
        }
        int n = n1 + n2;
        long[] values = new long[n];
        boolean[] isSlower = new boolean[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            values[i] = i < n1 ? slower[i] : faster[i - n1];
            isSlower[i] = i < n1;
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(values[a], values[b]));
        double rankSum = 0;
        double tieTerm = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j < n && values[order[j]] == values[order[i]]) {
                j++;
            }
            double midrank = (i + 1 + j) / 2.0;
            for (int k = i; k < j; k++) {
                rankSum += isSlower[order[k]] ? midrank : 0;
            }
            double t = j - i;
            tieTerm += t * t * t - t;
            i = j;
        }
        double u = rankSum - n1 * (n1 + 1) / 2.0;
        double mean = n1 * (double) n2 / 2;
        double variance = n1 * (double) n2 / 12 * ((n + 1) - (n > 1 ? tieTerm / ((double) n * (n - 1)) : 0));
        double z = variance > 0 ? (u - mean - 0.5) / Math.sqrt(variance) : 0;
        double p = variance > 0 ? upperTail(z) : 1;
        return new RankTest(median(slower), median(faster), u, z, p);
    }

    public boolean significant() {
        return pValue < ALPHA;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(sorted.length - 1) / 2];
    }

    /** P(Z > z) for a standard normal Z: erfc(z / √2) / 2. */
    static double upperTail(double z) {
        return erfc(z / Math.sqrt(2)) / 2;
    }

    /**
     * The complementary error function, with a relative error under 1.2e-7 everywhere (the Chebyshev fit of
     * Numerical Recipes' erfcc, Press et al., 2nd ed., §6.2): ample for a threshold of 0.001.
     */
    static double erfc(double x) {
        double t = 1 / (1 + 0.5 * Math.abs(x));
        double y = t
                * Math.exp(
                        -x * x
                                - 1.26551223
                                + t
                                        * (1.00002368
                                                + t
                                                        * (0.37409196
                                                                + t
                                                                        * (0.09678418
                                                                                + t
                                                                                        * (-0.18628806
                                                                                                + t
                                                                                                        * (0.27886807
                                                                                                                + t
                                                                                                                        * (-1.13520398
                                                                                                                                + t
                                                                                                                                        * (1.48851587
                                                                                                                                                + t
                                                                                                                                                        * (-0.82215223
                                                                                                                                                                + t
                                                                                                                                                                        * 0.17087277)))))))));
        return x >= 0 ? y : 2 - y;
    }
}
