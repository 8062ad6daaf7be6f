package org.memhygiene.simulator.ksm;

import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * The unstable tree of one scan (mm/ksm.c unstable_tree_search_insert): per (NUMA node, content), the
 * page last filed under it and the scan it was filed in, in the stable tree's {@link ContentTable}.
 * Like the kernel's tree it is thrown away when a new full scan starts: entries of earlier scans are
 * simply not read. An entry is valid while its page is still flagged UNSTABLE for this scan and still holds the content it
 * was filed under (a page written since is not found under its new content: the kernel's tree has the
 * same blind spot). A content has at most one valid page: a second page's search finds the first.
 */
final class UnstableTree {
    private final HostModel model;
    private final ContentTable pages;
    /** Full scans since the start: the scan an entry was filed in, beside its page. */
    private int scan;

    UnstableTree(HostModel model) {
        this.model = model;
        pages = model.stable.contentIndex;
    }

    /** Whether page {@code q}, filed under {@code contentId}, is still in this scan's tree under it. */
    private boolean valid(int q, int contentId, int parityFlag) {
        int f = model.flags[q];
        return (f & PageFlags.UNSTABLE) != 0
                && (f & PageFlags.UNSTABLE_ODD) == parityFlag
                && model.content[q] == contentId;
    }

    /**
     * The valid page with {@code contentId} on {@code numaNode} other than {@code page}, or -1 after
     * filing {@code page} under its content (the caller sets its UNSTABLE flag).
     */
    int searchInsert(int page, int contentId, int numaNode, int parityFlag) {
        long e = pages.get(contentId, numaNode, ContentTable.UNSTABLE);
        if (e != ContentTable.EMPTY && (int) (e >>> 32) == scan) {
            int q = (int) e;
            if (q != page && valid(q, contentId, parityFlag)) {
                return q;
            }
        }
        pages.put(contentId, numaNode, ContentTable.UNSTABLE, (long) scan << 32 | (page & 0xFFFFFFFFL));
        return -1;
    }

    /** A new full scan: root_unstable_tree[nid] = RB_ROOT. */
    void clear() {
        scan++;
    }
}
