package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import org.memhygiene.simulator.model.Content;

/**
 * The stable tree of mm/ksm.c: one stable node per KSM page, found by content (and NUMA node when
 * merge_across_nodes=0). A content whose KSM page reached max_page_sharing gets more nodes ("dups"),
 * linked into a chain, as stable_node_chain does. Nodes live in parallel int arrays.
 *
 * <p>Two sharer counts per node: {@code rmapLen} is the kernel's rmap_hlist_len (rmap items hanging
 * on the node, what pages_shared/pages_sharing count; it falls only when ksmd revisits a page), and
 * {@code live} is the guest pages still mapped to the KSM page (it falls at once on copy on write or
 * a discard: what memory and exposure are computed from).
 */
public final class StableTree {
    private static final int NONE = -1;

    /** A node's fields, side by side in {@link #nodes} so one node is one cache line's worth, not eight misses. */
    private static final int CONTENT = 0;
    /** rmap_hlist_len. */
    private static final int RMAP_LEN = 1;

    private static final int LIVE = 2;
    /** The next dup of the same content (the chain), or NONE. */
    private static final int NEXT = 3;

    private static final int FIRST_VM = 4;
    private static final int FIRST_VM_LIVE = 5;
    private static final int NUMA = 6;
    /** 1: the node's KSM page is gone and the node was pruned; rmap items still point at it. */
    private static final int DEAD = 7;

    private static final int FIELDS = 8;

    private int[] nodes = new int[1024 * FIELDS];
    private int[] freeIds = new int[1024];
    private int freeCount;
    private int allocated;
    private final LongIntMap heads = new LongIntMap(1024);

    /** Kernel counters: nodes with rmap items, and the further rmap items on them. */
    long pagesShared;

    long pagesSharing;
    long chains;
    long chainDups;
    /** What is really mapped: KSM pages with a live mapping, live mappings in all. */
    private long liveNodes;

    private long liveSharers;
    private long crossVmPages;
    private long mergedSecretPages;

    private static long key(int contentId, int numaNode) {
        return (long) numaNode << 32 | (contentId & 0xFFFFFFFFL);
    }

    /**
     * stable_tree_search / chain_prune: the node of {@code contentId} with room to share, preferring
     * the fullest (as stable_node_dup does, so dups fill up before new ones are made), or -1.
     */
    int findCandidate(int contentId, int numaNode, int maxPageSharing) {
        int node = heads.get(key(contentId, numaNode));
        int best = NONE;
        while (node != NONE) {
            int following = nodes[at(node, NEXT)];
            int len = nodes[at(node, RMAP_LEN)];
            if (nodes[at(node, LIVE)] == 0) {
                // stable_node_dup walks every dup with ksm_get_folio, which prunes those whose KSM page is gone.
                kill(node);
            } else if (len > 0 && len < maxPageSharing && (best == NONE || len > nodes[at(best, RMAP_LEN)])) {
                best = node;
            }
            node = following;
        }
        return best;
    }

    /** stable_tree_insert: a new KSM page for {@code contentId}; a dup in the chain if one exists. */
    int insert(int contentId, int numaNode) {
        int node = freeCount > 0 ? freeIds[--freeCount] : allocate();
        nodes[at(node, CONTENT)] = contentId;
        nodes[at(node, RMAP_LEN)] = 0;
        nodes[at(node, LIVE)] = 0;
        nodes[at(node, FIRST_VM)] = NONE;
        nodes[at(node, FIRST_VM_LIVE)] = 0;
        nodes[at(node, NUMA)] = numaNode;
        nodes[at(node, DEAD)] = 0;
        long k = key(contentId, numaNode);
        int head = heads.get(k);
        nodes[at(node, NEXT)] = head;
        heads.put(k, node);
        if (head != NONE) {
            int length = chainLength(node);
            if (length == 2) {
                chains++;
                chainDups += 2;
            } else {
                chainDups++;
            }
        }
        return node;
    }

    /** stable_tree_append: the first rmap item of a node counts in pages_shared, the rest in pages_sharing. */
    void append(int node, int guest) {
        if (nodes[at(node, RMAP_LEN)]++ == 0) {
            pagesShared++;
        } else {
            pagesSharing++;
        }
        addLive(node, guest);
    }

    /**
     * remove_rmap_item_from_tree for a stable item; {@code mapped} when the page still maps the KSM page.
     * An item of a pruned node only goes (the node's counts went when it was pruned).
     */
    void removeRmap(int node, int guest, boolean mapped) {
        if (mapped) {
            removeLive(node, guest);
        }
        if (nodes[at(node, DEAD)] == 0 && nodes[at(node, LIVE)] == 0) {
            // ksm_get_folio in remove_rmap_item_from_tree finds the KSM page freed: the whole node goes.
            kill(node);
        }
        if (nodes[at(node, DEAD)] == 1) {
            if (--nodes[at(node, RMAP_LEN)] == 0) {
                free(node);
            }
            return;
        }
        if (--nodes[at(node, RMAP_LEN)] == 0) {
            pagesShared--;
            unlink(node);
            free(node);
        } else {
            pagesSharing--;
        }
    }

    /** remove_node_from_stable_tree: every rmap item of the node leaves the counters at once. */
    private void kill(int node) {
        pagesShared--;
        pagesSharing -= nodes[at(node, RMAP_LEN)] - 1;
        nodes[at(node, DEAD)] = 1;
        unlink(node);
    }

    /** Copy on write (or a discard) of a page mapped to the node: the mapping goes, the rmap item stays. */
    public void breakMapping(int node, int guest) {
        removeLive(node, guest);
    }

    public int content(int node) {
        return nodes[at(node, CONTENT)];
    }

    public long liveNodes() {
        return liveNodes;
    }

    public long liveSharers() {
        return liveSharers;
    }

    public long crossVmPages() {
        return crossVmPages;
    }

    public long mergedSecretPages() {
        return mergedSecretPages;
    }

    private void addLive(int node, int guest) {
        subtractExposure(node);
        nodes[at(node, LIVE)]++;
        liveSharers++;
        if (nodes[at(node, LIVE)] == 1) {
            liveNodes++;
        }
        if (nodes[at(node, FIRST_VM)] == NONE
                || nodes[at(node, FIRST_VM_LIVE)] == 0
                        && nodes[at(node, FIRST_VM)] != guest
                        && nodes[at(node, LIVE)] == 1) {
            nodes[at(node, FIRST_VM)] = guest;
            nodes[at(node, FIRST_VM_LIVE)] = 0;
        }
        if (nodes[at(node, FIRST_VM)] == guest) {
            nodes[at(node, FIRST_VM_LIVE)]++;
        }
        addExposure(node);
    }

    private void removeLive(int node, int guest) {
        subtractExposure(node);
        nodes[at(node, LIVE)]--;
        liveSharers--;
        if (nodes[at(node, LIVE)] == 0) {
            liveNodes--;
            nodes[at(node, FIRST_VM)] = NONE;
            nodes[at(node, FIRST_VM_LIVE)] = 0;
        } else if (nodes[at(node, FIRST_VM)] == guest) {
            nodes[at(node, FIRST_VM_LIVE)]--;
        }
        addExposure(node);
    }

    /**
     * Pages merged with a page of another VM: all live sharers of a node whose sharers are not all of
     * the first VM. When every sharer of the first VM has left, the rest count as cross-VM (the node
     * does not remember which VMs they belong to; see docs/SIMULATOR.md).
     */
    private long crossVmContribution(int node) {
        if (nodes[at(node, CONTENT)] == Content.ZERO || nodes[at(node, LIVE)] < 2) {
            return 0;
        }
        return nodes[at(node, FIRST_VM_LIVE)] < nodes[at(node, LIVE)] ? nodes[at(node, LIVE)] : 0;
    }

    private void subtractExposure(int node) {
        crossVmPages -= crossVmContribution(node);
        if (Content.isSecret(nodes[at(node, CONTENT)]) && nodes[at(node, LIVE)] >= 2) {
            mergedSecretPages -= nodes[at(node, LIVE)];
        }
    }

    private void addExposure(int node) {
        crossVmPages += crossVmContribution(node);
        if (Content.isSecret(nodes[at(node, CONTENT)]) && nodes[at(node, LIVE)] >= 2) {
            mergedSecretPages += nodes[at(node, LIVE)];
        }
    }

    private int chainLength(int node) {
        long k = key(nodes[at(node, CONTENT)], nodes[at(node, NUMA)]);
        int length = 0;
        for (int n = heads.get(k); n != NONE; n = nodes[at(n, NEXT)]) {
            length++;
        }
        return length;
    }

    private void unlink(int node) {
        long k = key(nodes[at(node, CONTENT)], nodes[at(node, NUMA)]);
        int head = heads.get(k);
        int before = chainLength(head);
        if (head == node) {
            if (nodes[at(node, NEXT)] == NONE) {
                heads.remove(k);
            } else {
                heads.put(k, nodes[at(node, NEXT)]);
            }
        } else {
            int n = head;
            while (nodes[at(n, NEXT)] != node) {
                n = nodes[at(n, NEXT)];
            }
            nodes[at(n, NEXT)] = nodes[at(node, NEXT)];
        }
        if (before == 2) {
            chains--;
            chainDups -= 2;
        } else if (before > 2) {
            chainDups--;
        }
    }

    private void free(int node) {
        if (freeCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeIds.length * 2);
        }
        freeIds[freeCount++] = node;
    }

    private int allocate() {
        if (allocated * FIELDS == nodes.length) {
            nodes = Arrays.copyOf(nodes, nodes.length * 2);
        }
        return allocated++;
    }

    private static int at(int node, int field) {
        return node * FIELDS + field;
    }

    /** Forgets every node (run=2 after every rmap item was removed). */
    void clear() {
        heads.clear();
        freeCount = 0;
        allocated = 0;
        pagesShared = pagesSharing = chains = chainDups = 0;
        liveNodes = liveSharers = crossVmPages = mergedSecretPages = 0;
    }
}
