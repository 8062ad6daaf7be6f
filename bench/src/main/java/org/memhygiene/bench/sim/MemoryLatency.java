package org.memhygiene.bench.sim;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How fast this CPU reaches memory right now, for bench/cpu-speeds.sh: loads at random places of a 128 MiB
 * int array (far beyond any cache), one after another (each load's address is the last load's value:
 * the latency of one miss) and then 16 such chains interleaved (their misses overlap, as the simulator's
 * read-ahead makes them: how many misses a second the CPU gets through). The simulator's time is mostly
 * such misses, and in a slow hour of this machine a miss took a fifth to a quarter longer (docs/PERFORMANCE.md,
 * "Nineteenth session"). Prints "chase N ns, 16 chains N ns a load".
 */
public final class MemoryLatency {
    private static final int INTS = 32 << 20;
    private static final int CHAINS = 16;
    private static final int STEPS = 4 << 20;
    /** Where the chains end, so that the JIT keeps the loads. */
    private static volatile int sink;

    private MemoryLatency() {}

    public static void main(String[] args) {
        // One cycle through every slot (Sattolo's shuffle), so that no chain falls into a short loop.
        int[] next = new int[INTS];
        for (int i = 0; i < INTS; i++) {
            next[i] = i;
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = INTS - 1; i > 0; i--) {
            int j = random.nextInt(i);
            int t = next[i];
            next[i] = next[j];
            next[j] = t;
        }
        chase(next, STEPS / 4); // compiled before the timing
        long t0 = System.nanoTime();
        sink = chase(next, STEPS);
        double chaseNanos = (System.nanoTime() - t0) / (double) STEPS;
        int[] at = new int[CHAINS];
        for (int c = 0; c < CHAINS; c++) {
            at[c] = c * (INTS / CHAINS);
        }
        long t1 = System.nanoTime();
        for (int s = 0; s < STEPS / CHAINS; s++) {
            for (int c = 0; c < CHAINS; c++) {
                at[c] = next[at[c]];
            }
        }
        double chainsNanos = (System.nanoTime() - t1) / (double) STEPS;
        int ends = 0;
        for (int a : at) {
            ends += a;
        }
        sink = ends;
        System.out.printf(Locale.ROOT, "chase %.0f ns, %d chains %.1f ns a load%n", chaseNanos, CHAINS, chainsNanos);
    }

    private static int chase(int[] next, int steps) {
        int p = 0;
        for (int s = 0; s < steps; s++) {
            p = next[p];
        }
        return p;
    }
}
