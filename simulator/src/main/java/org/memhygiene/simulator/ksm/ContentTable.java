package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import org.memhygiene.simulator.model.Content;

/**
 * Both trees' index: per (NUMA node, content) that ksmd can search for, the stable tree's node and the
 * unstable tree's page, side by side. Searchable content is the zero page's, or content shared by design
 * ({@link Content#isUnique} false; unique content is never searched). Indexed directly by the content id,
 * whose shared ids are dense per page class and image (an image's pages, a pool of file pages, a
 * content group, each numbered from 0): chunks of 4,096 contents made as contents are first put. A
 * search that finds no KSM page reads the unstable tree's entry from the same cache line, and ksmd's walk
 * of an image's pages in address order reads the table in order, not at random places of a hash table.
 */
public final class ContentTable {
    /** Heap per content id: its two columns, a long each (HeapEstimate). */
    public static final long BYTES_PER_CONTENT = 2 * Long.BYTES;
    /** Content ids per chunk: a chunk is made whole for the first id put in it (HeapEstimate). */
    public static final int CHUNK_CONTENTS = 4096;

    static final long EMPTY = -1;
    /** The columns: the stable tree's node (or a node of its chain), the unstable tree's entry. */
    static final int STABLE = 0;

    static final int UNSTABLE = 1;

    private static final int CHUNK_BITS = Integer.numberOfTrailingZeros(CHUNK_CONTENTS);
    private static final int MIDDLE_BITS = 21 - CHUNK_BITS;
    /** Per NUMA node: class, shared bit and image (the id's top 11 bits), then the index's chunks. */
    private long[][][][] byNode = new long[1][][][];

    private static int top(int content) {
        if (Content.isUnique(content)) {
            throw new IllegalArgumentException(
                    "content " + Integer.toHexString(content) + " is unique: never searched");
        }
        return content >>> 21;
    }

    /** The column's value for the content on the NUMA node, or {@link #EMPTY}. */
    long get(int content, int numaNode, int column) {
        int t = top(content);
        if (numaNode >= byNode.length || byNode[numaNode] == null) {
            return EMPTY;
        }
        long[][] middle = byNode[numaNode][t];
        if (middle == null) {
            return EMPTY;
        }
        long[] chunk = middle[(content >>> CHUNK_BITS) & ((1 << MIDDLE_BITS) - 1)];
        return chunk == null ? EMPTY : chunk[(content & ((1 << CHUNK_BITS) - 1)) << 1 | column];
    }

    /** Sets the column's value for the content on the NUMA node; {@link #EMPTY} takes it out. */
    void put(int content, int numaNode, int column, long value) {
        if (numaNode >= byNode.length) {
            byNode = Arrays.copyOf(byNode, numaNode + 1);
        }
        if (byNode[numaNode] == null) {
            byNode[numaNode] = new long[1 << 11][][];
        }
        long[][][] tops = byNode[numaNode];
        int t = top(content);
        if (tops[t] == null) {
            tops[t] = new long[1 << MIDDLE_BITS][];
        }
        long[][] middle = tops[t];
        int m = (content >>> CHUNK_BITS) & ((1 << MIDDLE_BITS) - 1);
        if (middle[m] == null) {
            middle[m] = new long[2 * CHUNK_CONTENTS];
            Arrays.fill(middle[m], EMPTY);
        }
        middle[m][(content & ((1 << CHUNK_BITS) - 1)) << 1 | column] = value;
    }
}
