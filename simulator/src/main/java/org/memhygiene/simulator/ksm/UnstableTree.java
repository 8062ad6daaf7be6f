package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * The unstable tree of one scan (mm/ksm.c unstable_tree_search_insert), as an open-addressing table
 * of page indices keyed by the page's content: 4 bytes per entry and no per-entry objects. Like the
 * kernel's tree it is thrown away when a new full scan starts. An entry is valid while its page is
 * still flagged UNSTABLE for this scan and still holds the content it was filed under (a page written
 * since is simply not found under its new content: the kernel's tree has the same blind spot).
 */
final class UnstableTree {
    private static final int EMPTY = -1;
    private final HostModel model;
    private int[] table = new int[1 << 12];
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

    /**
     * The valid entry with {@code contentId} on {@code numaNode} other than {@code page}, or -1 after
     * filing {@code page} under its content (the caller sets its UNSTABLE flag).
     */
    int searchInsert(int page, int contentId, int numaNode, int parityFlag) {
        int[] content = model.content;
        byte[] flags = model.flags;
        int i = hash(contentId, numaNode) & mask;
        int reusable = EMPTY;
        while (true) {
            int q = table[i];
            if (q == EMPTY) {
                break;
            }
            if (content[q] == contentId && q != page && (!perNode || model.guestOf(q).spec.numaNode() == numaNode)) {
                int f = flags[q];
                if ((f & PageFlags.UNSTABLE) != 0 && (f & PageFlags.UNSTABLE_ODD) == parityFlag) {
                    return q;
                }
                if (reusable == EMPTY) {
                    reusable = i;
                }
            }
            i = (i + 1) & mask;
        }
        if (reusable != EMPTY) {
            table[reusable] = page;
            return EMPTY;
        }
        table[i] = page;
        if (++used * 4 > table.length * 3) {
            grow(parityFlag, page);
        }
        return EMPTY;
    }

    /** A new full scan: root_unstable_tree[nid] = RB_ROOT. Shrinks the table when the last scan used little of it. */
    void clear() {
        if (table.length > (1 << 12) && used * 8 < table.length) {
            table = new int[Math.max(1 << 12, Integer.highestOneBit(Math.max(1, used) * 2) << 1)];
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
        int[] old = table;
        table = new int[old.length * 2];
        mask = table.length - 1;
        Arrays.fill(table, EMPTY);
        used = 0;
        byte[] flags = model.flags;
        for (int q : old) {
            // Only entries still in this scan's tree move over; the rest are dead weight.
            if (q == filed || q != EMPTY && (flags[q] & PageFlags.UNSTABLE) != 0 && (flags[q] & PageFlags.UNSTABLE_ODD) == parityFlag) {
                int i = hash(model.content[q], perNode ? model.guestOf(q).spec.numaNode() : 0) & mask;
                while (table[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                table[i] = q;
                used++;
            }
        }
    }

    /** Whether the table is keyed per NUMA node (merge_across_nodes=0); set by ksmd at each scan start. */
    boolean perNode;
}
