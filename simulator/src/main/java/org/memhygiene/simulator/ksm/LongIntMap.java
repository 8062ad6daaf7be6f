package org.memhygiene.simulator.ksm;

import java.util.Arrays;

/**
 * An open-addressing map from long keys to non-negative int values (linear probing, backward-shift
 * deletion): the stable tree's index from (NUMA node, content) to the first stable node, without a
 * boxed entry per KSM page. Key and value share one slot of a long array (one cache miss a probe) and
 * the table stays at most half full, so a search for a content that has no KSM page (most searches)
 * ends after about two probes instead of eight at 3/4.
 */
final class LongIntMap {
    private static final long EMPTY = -1;
    /** Slot i is entries[2i] (the key) and entries[2i + 1] (the value, EMPTY when the slot is free). */
    private long[] entries;

    private int size;
    private int mask;
    /**
     * One bit per quarter slot, set for every key put since the last rebuild: a clear bit answers
     * "absent" from 1/32 of the table's memory, which stays in the CPU's cache where the table does
     * not. Most searches are for a content nobody merged (ksmd's stable search before the unstable one):
     * a simulated day of 64 x 4 GiB about a tenth faster.
     */
    private long[] present;

    private int presentMask;
    /** Keys removed since the bits were rebuilt: their bits may still be set. */
    private int removedSinceRebuild;

    LongIntMap(int initialCapacity) {
        int capacity = Integer.highestOneBit(Math.max(16, initialCapacity) - 1) << 1;
        entries = new long[capacity * 2];
        Arrays.fill(entries, EMPTY);
        mask = capacity - 1;
        rebuildPresent();
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** The value for {@code key}, or -1. */
    int get(long key) {
        int h = hash(key);
        if ((present[(h & presentMask) >>> 6] & 1L << h) == 0) {
            return -1;
        }
        long[] e = entries;
        int i = h & mask;
        while (e[2 * i + 1] != EMPTY) {
            if (e[2 * i] == key) {
                return (int) e[2 * i + 1];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    void put(long key, int value) {
        int h = hash(key);
        present[(h & presentMask) >>> 6] |= 1L << h;
        long[] e = entries;
        int i = h & mask;
        while (e[2 * i + 1] != EMPTY) {
            if (e[2 * i] == key) {
                e[2 * i + 1] = value;
                return;
            }
            i = (i + 1) & mask;
        }
        e[2 * i] = key;
        e[2 * i + 1] = value;
        if (++size * 2 > mask + 1) {
            grow();
        }
    }

    void remove(long key) {
        long[] e = entries;
        int i = hash(key) & mask;
        while (e[2 * i + 1] != EMPTY) {
            if (e[2 * i] == key) {
                size--;
                // Backward-shift: move later entries of the probe run into the hole.
                int hole = i;
                int j = (i + 1) & mask;
                while (e[2 * j + 1] != EMPTY) {
                    int home = hash(e[2 * j]) & mask;
                    if (((j - home) & mask) >= ((j - hole) & mask)) {
                        e[2 * hole] = e[2 * j];
                        e[2 * hole + 1] = e[2 * j + 1];
                        hole = j;
                    }
                    j = (j + 1) & mask;
                }
                e[2 * hole + 1] = EMPTY;
                if (++removedSinceRebuild > mask) {
                    rebuildPresent();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    private void rebuildPresent() {
        int bits = (mask + 1) * 4;
        present = new long[bits / 64];
        presentMask = bits - 1;
        removedSinceRebuild = 0;
        for (int i = 0; i <= mask; i++) {
            if (entries[2 * i + 1] != EMPTY) {
                int h = hash(entries[2 * i]);
                present[(h & presentMask) >>> 6] |= 1L << h;
            }
        }
    }

    private void grow() {
        long[] old = entries;
        entries = new long[old.length * 2];
        Arrays.fill(entries, EMPTY);
        mask = entries.length / 2 - 1;
        size = 0;
        for (int i = 0; i < old.length; i += 2) {
            if (old[i + 1] != EMPTY) {
                put(old[i], (int) old[i + 1]);
            }
        }
        rebuildPresent();
    }
}
