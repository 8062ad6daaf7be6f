package org.memhygiene.simulator.ksm;

import java.util.Arrays;

/**
 * An open-addressing map from long keys to non-negative int values (linear probing, backward-shift
 * deletion): the stable tree's index from (NUMA node, content) to the first stable node, without a
 * boxed entry per KSM page.
 */
final class LongIntMap {
    private static final int EMPTY = -1;
    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    LongIntMap(int initialCapacity) {
        int capacity = Integer.highestOneBit(Math.max(16, initialCapacity) - 1) << 1;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(values, EMPTY);
        mask = capacity - 1;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** The value for {@code key}, or -1. */
    int get(long key) {
        int i = hash(key) & mask;
        while (values[i] != EMPTY) {
            if (keys[i] == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return EMPTY;
    }

    void put(long key, int value) {
        int i = hash(key) & mask;
        while (values[i] != EMPTY) {
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        if (++size * 4 > keys.length * 3) {
            grow();
        }
    }

    void remove(long key) {
        int i = hash(key) & mask;
        while (values[i] != EMPTY) {
            if (keys[i] == key) {
                size--;
                // Backward-shift: move later entries of the probe run into the hole.
                int hole = i;
                int j = (i + 1) & mask;
                while (values[j] != EMPTY) {
                    int home = hash(keys[j]) & mask;
                    if (((j - home) & mask) >= ((j - hole) & mask)) {
                        keys[hole] = keys[j];
                        values[hole] = values[j];
                        hole = j;
                    }
                    j = (j + 1) & mask;
                }
                values[hole] = EMPTY;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    void clear() {
        Arrays.fill(values, EMPTY);
        size = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(values, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != EMPTY) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }
}
