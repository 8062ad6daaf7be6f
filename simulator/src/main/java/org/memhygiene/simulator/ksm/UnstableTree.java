package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * The unstable tree of one scan (mm/ksm.c unstable_tree_search_insert), as an open-addressing table
 * of (content, page) entries, 8 bytes each and no per-entry objects; at most half full, so a search
 * for a content nobody filed (most searches) ends after about two probes, each one cache miss. Like
 * the kernel's tree it is thrown away when a new full scan starts. An entry is valid while its page is
 * still flagged UNSTABLE for this scan and still holds the content it was filed under (a page written
 * since is simply not found under its new content: the kernel's tree has the same blind spot).
 */
final class UnstableTree {
    private static final long EMPTY = -1;
    private static final int INITIAL = 1 << 12;
    private final HostModel model;
    private long[] table = new long[INITIAL];
    private int mask = table.length - 1;
    private int used;

    UnstableTree(HostModel model) {
        this.model = model;
        Arrays.fill(table, EMPTY);
    }

    private static int hash(int contentId, int numaNode) {
        int h = (contentId ^ numaNode * 0x61C88647) * 0x9E3779B1;
        return h ^ (h >>> 15);
    }

    private static long entry(int contentId, int page) {
        return (long) contentId << 32 | (page & 0xFFFFFFFFL);
    }

    /** Whether page {@code q}, filed under {@code contentId}, is still in this scan's tree under it. */
    private boolean valid(int q, int contentId, int parityFlag) {
        int f = model.flags[q];
        return (f & PageFlags.UNSTABLE) != 0
                && (f & PageFlags.UNSTABLE_ODD) == parityFlag
                && model.content[q] == contentId;
    }

    /**
     * The valid entry with {@code contentId} on {@code numaNode} other than {@code page}, or -1 after
     * filing {@code page} under its content (the caller sets its UNSTABLE flag).
     */
    int searchInsert(int page, int contentId, int numaNode, int parityFlag) {
        int i = hash(contentId, numaNode) & mask;
        int reusable = -1;
        while (true) {
            long e = table[i];
            if (e == EMPTY) {
                break;
            }
            int q = (int) e;
            if ((int) (e >>> 32) == contentId
                    && q != page
                    && (!perNode || model.guestOf(q).spec.numaNode() == numaNode)) {
                if (valid(q, contentId, parityFlag)) {
                    return q;
                }
                if (reusable < 0) {
                    reusable = i;
                }
            }
            i = (i + 1) & mask;
        }
        if (reusable >= 0) {
            table[reusable] = entry(contentId, page);
            return -1;
        }
        table[i] = entry(contentId, page);
        if (++used * 2 > table.length) {
            grow(parityFlag, page);
        }
        return -1;
    }

    /** A new full scan: root_unstable_tree[nid] = RB_ROOT. Shrinks the table when the last scan used little of it. */
    void clear() {
        if (table.length > INITIAL && used * 8 < table.length) {
            table = new long[Math.max(INITIAL, Integer.highestOneBit(Math.max(1, used) * 2) << 1)];
            mask = table.length - 1;
        }
        Arrays.fill(table, EMPTY);
        used = 0;
    }

    /**
     * Doubles the table, keeping the entries still in this scan's tree and {@code filed}, the page just
     * filed: the caller flags it UNSTABLE only after searchInsert returns, so its flags cannot tell yet.
     */
    private void grow(int parityFlag, int filed) {
        long[] old = table;
        table = new long[old.length * 2];
        mask = table.length - 1;
        Arrays.fill(table, EMPTY);
        used = 0;
        for (long e : old) {
            int q = (int) e;
            int contentId = (int) (e >>> 32);
            // Only entries still in this scan's tree move over; the rest are dead weight.
            if (e != EMPTY && (q == filed || valid(q, contentId, parityFlag))) {
                int i = hash(contentId, perNode ? model.guestOf(q).spec.numaNode() : 0) & mask;
                while (table[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                table[i] = e;
                used++;
            }
        }
    }

    /** Whether the table is keyed per NUMA node (merge_across_nodes=0); set by ksmd at each scan start. */
    boolean perNode;
}
