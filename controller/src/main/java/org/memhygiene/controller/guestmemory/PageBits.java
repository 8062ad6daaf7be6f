package org.memhygiene.controller.guestmemory;

/**
 * One bit per page of a VM's guest RAM: whether an earlier pass saw the page backed, so that a page found
 * absent later counts as given back, and a page found zero-mapped that no pass saw backed counts as never
 * having cost the host. Until a whole pass has set the bits ({@link #complete()}), a clear bit means only
 * "not seen yet". Unlike {@link java.util.BitSet} it counts the set bits of a range
 * without copying it: a pass that finds a run of a million absent pages counts them in place.
 */
final class PageBits {
    private final long[] words;
    private final int size;
    private boolean complete;

    PageBits(int size) {
        this.size = size;
        this.words = new long[(size + 63) >>> 6];
    }

    int size() {
        return size;
    }

    /** Whether a whole pass has set the bits: a clear bit then means the page was never seen backed. */
    boolean complete() {
        return complete;
    }

    void markComplete() {
        complete = true;
    }

    boolean get(int index) {
        return (words[index >>> 6] & (1L << index)) != 0;
    }

    void set(int index) {
        words[index >>> 6] |= 1L << index;
    }

    /** Sets bits {@code [from, to)}. */
    void set(int from, int to) {
        if (from >= to) {
            return;
        }
        int first = from >>> 6;
        int last = (to - 1) >>> 6;
        long firstMask = -1L << from;
        long lastMask = -1L >>> -to;
        if (first == last) {
            words[first] |= firstMask & lastMask;
            return;
        }
        words[first] |= firstMask;
        for (int w = first + 1; w < last; w++) {
            words[w] = -1L;
        }
        words[last] |= lastMask;
    }

    /** The set bits in {@code [from, to)}. */
    int count(int from, int to) {
        if (from >= to) {
            return 0;
        }
        int first = from >>> 6;
        int last = (to - 1) >>> 6;
        long firstMask = -1L << from;
        long lastMask = -1L >>> -to;
        if (first == last) {
            return Long.bitCount(words[first] & firstMask & lastMask);
        }
        int n = Long.bitCount(words[first] & firstMask);
        for (int w = first + 1; w < last; w++) {
            n += Long.bitCount(words[w]);
        }
        return n + Long.bitCount(words[last] & lastMask);
    }
}
