package org.memhygiene.simulator.ksm;

import java.lang.invoke.MethodHandles;
import java.util.Arrays;
import org.memhygiene.simulator.model.Content;

/**
 * The stable tree of mm/ksm.c: one stable node per KSM page, found by content (and NUMA node when
 * merge_across_nodes=0). A content whose KSM page reached max_page_sharing gets more nodes ("dups"),
 * in a chain, as stable_node_chain does ({@link Chain}). Nodes live in one int array.
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
    /** {@link #ALONE}, {@link #DEAD}, or the id of the node's chain in {@link #chainsById}. */
    private static final int CHAIN = 3;

    private static final int FIRST_VM = 4;
    private static final int FIRST_VM_LIVE = 5;
    private static final int NUMA = 6;
    /** The node's place in its chain: dups made later have higher numbers (see {@link Chain}). */
    private static final int CHAIN_SEQ = 7;

    private static final int FIELDS = 8;

    /** The only node of its content: no chain. */
    private static final int ALONE = -1;
    /** The node's KSM page is gone and the node was pruned (or freed); rmap items may still point at it. */
    private static final int DEAD = -2;

    private int[] nodes = new int[1024 * FIELDS];
    private int[] freeIds = new int[1024];
    private int freeCount;
    private int allocated;
    /** (NUMA node, content) to its node, or to one node of its chain; the unstable tree's column beside. */
    final ContentTable contentIndex = new ContentTable();

    private Chain[] chainsById = new Chain[16];

    static {
        // Loaded with the tree, not when the first chain comes: until then the optimizing compiler takes
        // a chain's treap, of a class not loaded, for always null, and the searches compiled so are thrown
        // away and compiled again when it is not (in web-farm's sweep: five methods at 14.6 s, 0.25 s of
        // the compiler's time; docs/PERFORMANCE.md, "Twenty-second session").
        try {
            MethodHandles.lookup().ensureInitialized(LongIntTreap.class);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    private int[] freeChainIds = new int[16];
    private int freeChainCount;
    private int chainsAllocated;

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

    /**
     * The dups of one content (stable_node_chain), indexed so that a search does not walk them all: a
     * content that zeroed free memory fills has one dup per max_page_sharing pages, thousands on a big
     * host. The kernel walks the chain's hlist newest first and keeps the dup with the most rmap items
     * below max_page_sharing, the first of equals; {@link #byLength} orders the dups by (rmap_hlist_len,
     * age) so that is its floor entry below max_page_sharing. {@link #unmapped} holds the dups whose
     * KSM page lost its last mapping: the walk would prune them, so the search does first.
     */
    private static final class Chain {
        /** (rmap_hlist_len << 32 | CHAIN_SEQ) to the node. */
        final LongIntTreap byLength = new LongIntTreap();
        /** The node {@link #contentIndex} maps the content to. */
        int member;

        int nextSeq;
        int[] unmapped = new int[4];
        int unmappedCount;

        void noteUnmapped(int node) {
            if (unmappedCount == unmapped.length) {
                unmapped = Arrays.copyOf(unmapped, unmappedCount * 2);
            }
            unmapped[unmappedCount++] = node;
        }
    }

    private long lengthKey(int node) {
        return (long) nodes[at(node, RMAP_LEN)] << 32 | (nodes[at(node, CHAIN_SEQ)] & 0xFFFFFFFFL);
    }

    /**
     * stable_tree_search / chain_prune: the node of {@code contentId} with room to share, preferring
     * the fullest (as stable_node_dup does, so dups fill up before new ones are made), or -1. Every
     * node of the content whose KSM page is gone is pruned first, as stable_node_dup's pruning walk
     * does with ksm_get_folio (the kernel walks so at most every stable_node_chains_prune_millisecs;
     * docs/SIMULATOR.md, "Where the model simplifies").
     */
    int findCandidate(int contentId, int numaNode, int maxPageSharing) {
        int node = (int) contentIndex.get(contentId, numaNode, ContentTable.STABLE);
        if (node == NONE) {
            return NONE;
        }
        int chain = nodes[at(node, CHAIN)];
        if (chain >= 0 && prune(chainsById[chain], contentId, numaNode)) {
            node = (int) contentIndex.get(contentId, numaNode, ContentTable.STABLE);
            if (node == NONE) {
                return NONE;
            }
            chain = nodes[at(node, CHAIN)];
        }
        if (chain >= 0) {
            LongIntTreap dups = chainsById[chain].byLength;
            int best = dups.floor((long) (maxPageSharing - 1) << 32 | 0xFFFFFFFFL);
            return best < 0 || dups.key(best) >>> 32 == 0 ? NONE : dups.value(best);
        }
        if (nodes[at(node, LIVE)] == 0) {
            kill(node);
            return NONE;
        }
        int len = nodes[at(node, RMAP_LEN)];
        return len > 0 && len < maxPageSharing ? node : NONE;
    }

    /**
     * Kills every node of the content noted unmapped, if it still is (the chain may dissolve on the
     * way); whether it killed one.
     */
    private boolean prune(Chain chain, int contentId, int numaNode) {
        int count = chain.unmappedCount;
        if (count == 0) {
            return false;
        }
        boolean killed = false;
        int[] pending = Arrays.copyOf(chain.unmapped, count);
        chain.unmappedCount = 0;
        for (int node : pending) {
            if (nodes[at(node, CHAIN)] != DEAD
                    && nodes[at(node, CONTENT)] == contentId
                    && nodes[at(node, NUMA)] == numaNode
                    && nodes[at(node, LIVE)] == 0) {
                kill(node);
                killed = true;
            }
        }
        return killed;
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
        nodes[at(node, CHAIN)] = ALONE;
        int head = (int) contentIndex.get(contentId, numaNode, ContentTable.STABLE);
        if (head == NONE) {
            contentIndex.put(contentId, numaNode, ContentTable.STABLE, node);
            return node;
        }
        int chainId = nodes[at(head, CHAIN)];
        Chain chain;
        if (chainId == ALONE) {
            chainId = newChain();
            chain = chainsById[chainId];
            chain.member = head;
            // Its KSM page is mapped: insert follows a search for the content, which pruned it otherwise.
            join(chain, chainId, head);
            chains++;
            chainDups += 2;
        } else {
            chain = chainsById[chainId];
            chainDups++;
        }
        join(chain, chainId, node);
        return node;
    }

    private void join(Chain chain, int chainId, int node) {
        nodes[at(node, CHAIN)] = chainId;
        nodes[at(node, CHAIN_SEQ)] = chain.nextSeq++;
        chain.byLength.put(lengthKey(node), node);
    }

    /** Sets a node's rmap_hlist_len, keeping its chain's order. */
    private void setLength(int node, int length) {
        int chainId = nodes[at(node, CHAIN)];
        if (chainId >= 0) {
            Chain chain = chainsById[chainId];
            chain.byLength.remove(lengthKey(node));
            nodes[at(node, RMAP_LEN)] = length;
            chain.byLength.put(lengthKey(node), node);
        } else {
            nodes[at(node, RMAP_LEN)] = length;
        }
    }

    /** stable_tree_append: the first rmap item of a node counts in pages_shared, the rest in pages_sharing. */
    void append(int node, int guest) {
        int len = nodes[at(node, RMAP_LEN)];
        setLength(node, len + 1);
        if (len == 0) {
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
        if (nodes[at(node, CHAIN)] != DEAD && nodes[at(node, LIVE)] == 0) {
            // ksm_get_folio in remove_rmap_item_from_tree finds the KSM page freed: the whole node goes.
            kill(node);
        }
        int len = nodes[at(node, RMAP_LEN)] - 1;
        if (nodes[at(node, CHAIN)] == DEAD) {
            nodes[at(node, RMAP_LEN)] = len;
            if (len == 0) {
                free(node);
            }
            return;
        }
        if (len == 0) {
            pagesShared--;
            unlink(node);
            free(node);
        } else {
            setLength(node, len);
            pagesSharing--;
        }
    }

    /** remove_node_from_stable_tree: every rmap item of the node leaves the counters at once. */
    private void kill(int node) {
        pagesShared--;
        pagesSharing -= nodes[at(node, RMAP_LEN)] - 1;
        unlink(node);
        nodes[at(node, CHAIN)] = DEAD;
    }

    /** Copy on write (or a discard) of a page mapped to the node: the mapping goes, the rmap item stays. */
    public void breakMapping(int node, int guest) {
        removeLive(node, guest);
    }

    /** A node's live count, read only to bring its cache line in early (HostModel.Writes). */
    public int peek(int node) {
        return nodes[at(node, LIVE)];
    }

    /** The node the index holds for the content on the NUMA node (its node, or one of its chain), or -1. */
    int indexed(int contentId, int numaNode) {
        return (int) contentIndex.get(contentId, numaNode, ContentTable.STABLE);
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
            if (nodes[at(node, CHAIN)] >= 0) {
                chainsById[nodes[at(node, CHAIN)]].noteUnmapped(node);
            }
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

    /** Takes a node out of the index; a chain left with one node is a plain node again. */
    private void unlink(int node) {
        int content = nodes[at(node, CONTENT)];
        int numaNode = nodes[at(node, NUMA)];
        int chainId = nodes[at(node, CHAIN)];
        if (chainId == ALONE) {
            contentIndex.put(content, numaNode, ContentTable.STABLE, ContentTable.EMPTY);
            return;
        }
        Chain chain = chainsById[chainId];
        chain.byLength.remove(lengthKey(node));
        nodes[at(node, CHAIN)] = ALONE;
        if (chain.byLength.size() == 1) {
            int last = chain.byLength.value(chain.byLength.first());
            nodes[at(last, CHAIN)] = ALONE;
            contentIndex.put(content, numaNode, ContentTable.STABLE, last);
            freeChain(chainId);
            chains--;
            chainDups -= 2;
        } else {
            chainDups--;
            if (chain.member == node) {
                chain.member = chain.byLength.value(chain.byLength.first());
                contentIndex.put(content, numaNode, ContentTable.STABLE, chain.member);
            }
        }
    }

    private int newChain() {
        int id;
        if (freeChainCount > 0) {
            id = freeChainIds[--freeChainCount];
        } else {
            if (chainsAllocated == chainsById.length) {
                chainsById = Arrays.copyOf(chainsById, chainsAllocated * 2);
            }
            id = chainsAllocated++;
        }
        chainsById[id] = new Chain();
        return id;
    }

    private void freeChain(int id) {
        chainsById[id] = null;
        if (freeChainCount == freeChainIds.length) {
            freeChainIds = Arrays.copyOf(freeChainIds, freeChainCount * 2);
        }
        freeChainIds[freeChainCount++] = id;
    }

    private void free(int node) {
        nodes[at(node, CHAIN)] = DEAD;
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
}
