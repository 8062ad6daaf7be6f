package org.memhygiene.simulator.ksm;

import java.util.Arrays;

/**
 * A sorted map of distinct long keys to int values in primitive arrays: a treap (a binary search tree
 * by key, a heap by a random priority per entry), with the few operations a stable node chain needs
 * ({@link StableTree}'s dups by (rmap_hlist_len, age)). It replaced a {@code TreeMap<Long, Integer>}
 * whose boxed keys and entries were a quarter of what a sweep allocated, and 25 of its 83 young
 * collections (docs/PERFORMANCE.md, "Twentieth session"). Not fastutil's {@code Long2IntRBTreeMap}:
 * its entries are objects too, one made at every put, and a chain's dup changes its key (remove, put)
 * at every merge into it. The priorities come from a fixed seed, so the same operations build the same
 * tree.
 */
final class LongIntTreap {
    private static final int NIL = -1;

    private long[] keys = new long[4];
    private int[] values = new int[4];
    private int[] left = new int[4];
    private int[] right = new int[4];
    private int[] priorities = new int[4];
    private int root = NIL;
    private int size;
    /** Entries never used yet start here; freed ones are chained through {@link #left}. */
    private int allocated;

    private int freeList = NIL;
    private int seed = 0x2545F491;
    /** {@link #split}'s result. */
    private int splitBelow;

    private int splitFrom;

    int size() {
        return size;
    }

    /** Adds the key, which must not be in the map. */
    void put(long key, int value) {
        int e = newEntry(key, value);
        int parent = NIL;
        boolean leftOfParent = false;
        int t = root;
        while (t != NIL && priorities[t] >= priorities[e]) {
            parent = t;
            leftOfParent = key < keys[t];
            t = leftOfParent ? left[t] : right[t];
        }
        split(t, key);
        left[e] = splitBelow;
        right[e] = splitFrom;
        link(parent, leftOfParent, e);
        size++;
    }

    /** Removes the key, which must be in the map. */
    void remove(long key) {
        int parent = NIL;
        boolean leftOfParent = false;
        int e = root;
        while (e != NIL && keys[e] != key) {
            parent = e;
            leftOfParent = key < keys[e];
            e = leftOfParent ? left[e] : right[e];
        }
        if (e == NIL) {
            throw new IllegalStateException("key " + key + " is not in the map");
        }
        link(parent, leftOfParent, merge(left[e], right[e]));
        left[e] = freeList;
        freeList = e;
        size--;
    }

    private void link(int parent, boolean leftOfParent, int child) {
        if (parent == NIL) {
            root = child;
        } else if (leftOfParent) {
            left[parent] = child;
        } else {
            right[parent] = child;
        }
    }

    /** The entry with the greatest key at most {@code key}, or -1: read it with {@link #key} and {@link #value}. */
    int floor(long key) {
        int best = NIL;
        for (int e = root; e != NIL; ) {
            if (keys[e] <= key) {
                best = e;
                e = right[e];
            } else {
                e = left[e];
            }
        }
        return best;
    }

    /** The entry with the least key, or -1. */
    int first() {
        int e = root;
        if (e == NIL) {
            return NIL;
        }
        while (left[e] != NIL) {
            e = left[e];
        }
        return e;
    }

    long key(int entry) {
        return keys[entry];
    }

    int value(int entry) {
        return values[entry];
    }

    private int newEntry(long key, int value) {
        int e;
        if (freeList != NIL) {
            e = freeList;
            freeList = left[e];
        } else {
            if (allocated == keys.length) {
                int n = allocated * 2;
                keys = Arrays.copyOf(keys, n);
                values = Arrays.copyOf(values, n);
                left = Arrays.copyOf(left, n);
                right = Arrays.copyOf(right, n);
                priorities = Arrays.copyOf(priorities, n);
            }
            e = allocated++;
        }
        // xorshift32: a fixed sequence of priorities.
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        keys[e] = key;
        values[e] = value;
        left[e] = NIL;
        right[e] = NIL;
        priorities[e] = seed;
        return e;
    }

    /** Splits the tree {@code t} into {@link #splitBelow} (keys below {@code key}) and {@link #splitFrom} (the rest). */
    private void split(int t, long key) {
        if (t == NIL) {
            splitBelow = NIL;
            splitFrom = NIL;
        } else if (keys[t] < key) {
            split(right[t], key);
            right[t] = splitBelow;
            splitBelow = t;
        } else {
            split(left[t], key);
            left[t] = splitFrom;
            splitFrom = t;
        }
    }

    /** Joins two trees, every key of {@code a} below every key of {@code b}. */
    private int merge(int a, int b) {
        if (a == NIL) {
            return b;
        }
        if (b == NIL) {
            return a;
        }
        if (priorities[a] > priorities[b]) {
            right[a] = merge(right[a], b);
            return a;
        }
        left[b] = merge(a, left[b]);
        return b;
    }
}
