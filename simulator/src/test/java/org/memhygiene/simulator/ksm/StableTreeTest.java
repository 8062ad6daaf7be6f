package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.model.Content;

/**
 * The stable tree's indexed chains against the rule of mm/ksm.c stable_node_dup's pruning walk,
 * written as plainly as it reads there: walk the content's dups newest first, prune every dup whose KSM page is
 * gone, keep the dup with the most rmap items below max_page_sharing (the first of equals). Random
 * merges, copies on write and rmap removals as ksmd makes them, with max_page_sharing small and
 * changing, so chains form, grow, lose dups and dissolve; the node found and every counter must agree
 * after every step.
 */
class StableTreeTest {
    @Test
    void indexedChainsPickTheDupTheKernelsWalkPicks() {
        for (long seed = 1; seed <= 8; seed++) {
            replay(seed, 40_000);
        }
    }

    /**
     * The chains' treap class is loaded with the tree, before any chain exists: else the searches the JIT
     * compiles before the first chain take a treap for always null, and are compiled again when one comes
     * (docs/PERFORMANCE.md, "Twenty-second session"). Checked in a class loader of its own, since other
     * tests in this JVM may have loaded the class already.
     */
    @Test
    void initializingTheTreeLoadsTheChainTreap() throws Exception {
        URL classes = StableTree.class.getProtectionDomain().getCodeSource().getLocation();
        try (IsolatingLoader loader = new IsolatingLoader(classes)) {
            Class.forName(StableTree.class.getName(), true, loader);
            assertNotNull(
                    loader.loaded(LongIntTreap.class.getName()),
                    "LongIntTreap not loaded when StableTree was initialized");
        }
    }

    /** Loads the simulator's classes itself (not from the parent), and tells which it has loaded. */
    private static final class IsolatingLoader extends URLClassLoader {
        IsolatingLoader(URL classes) {
            super(new URL[] {classes}, StableTreeTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("org.memhygiene.simulator.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }

        Class<?> loaded(String name) {
            return findLoadedClass(name);
        }
    }

    private static void replay(long seed, int steps) {
        SplittableRandom random = new SplittableRandom(seed);
        StableTree tree = new StableTree();
        WalkedTree walked = new WalkedTree();
        /** Rmap items hanging on nodes: {node, guest, mapped (1) or broken (0)}. */
        List<int[]> items = new ArrayList<>();
        int maxPageSharing = 3;
        for (int step = 0; step < steps; step++) {
            int op = random.nextInt(10);
            String at = "seed " + seed + " step " + step;
            if (op < 5) {
                // A page of this content is visited: merge into a candidate, or start a new KSM page with a partner.
                if (random.nextInt(200) == 0) {
                    maxPageSharing = 2 + random.nextInt(4);
                }
                // The zero page's content and two shared ones: the contents ksmd searches for.
                int content =
                        random.nextInt(3) == 0 ? Content.ZERO : Content.shared(Content.OS_IMAGE, 1, random.nextInt(2));
                int numa = random.nextInt(2);
                int found = tree.findCandidate(content, numa, maxPageSharing);
                assertEquals(walked.findCandidate(content, numa, maxPageSharing), found, at + ": candidate");
                int guest = random.nextInt(4);
                if (found >= 0) {
                    tree.append(found, guest);
                    walked.append(found, guest);
                    items.add(new int[] {found, guest, 1});
                } else {
                    int node = tree.insert(content, numa);
                    assertEquals(walked.insert(content, numa), node, at + ": node id");
                    for (int g : new int[] {guest, (guest + 1) % 4}) {
                        tree.append(node, g);
                        walked.append(node, g);
                        items.add(new int[] {node, g, 1});
                    }
                }
            } else if (!items.isEmpty() && op < 8) {
                // Copy on write: the mapping goes, the rmap item stays.
                int[] item = items.get(random.nextInt(items.size()));
                if (item[2] == 1) {
                    tree.breakMapping(item[0], item[1]);
                    walked.breakMapping(item[0], item[1]);
                    item[2] = 0;
                }
            } else if (!items.isEmpty()) {
                // ksmd revisits the page: its rmap item leaves the node.
                int[] item = items.remove(random.nextInt(items.size()));
                tree.removeRmap(item[0], item[1], item[2] == 1);
                walked.removeRmap(item[0], item[1], item[2] == 1);
            }
            assertEquals(walked.pagesShared, tree.pagesShared, at + ": pages_shared");
            assertEquals(walked.pagesSharing, tree.pagesSharing, at + ": pages_sharing");
            assertEquals(walked.chains, tree.chains, at + ": stable_node_chains");
            assertEquals(walked.chainDups, tree.chainDups, at + ": stable_node_dups");
            assertEquals(walked.liveNodes(), tree.liveNodes(), at + ": live KSM pages");
        }
    }

    /** The rule as the kernel walks it: one list per content, newest dup first. */
    private static final class WalkedTree {
        private static final class Node {
            final int id;
            final int content;
            final int numa;
            int rmapLen;
            int live;
            boolean dead;

            Node(int id, int content, int numa) {
                this.id = id;
                this.content = content;
                this.numa = numa;
            }
        }

        final Map<Long, LinkedList<Node>> lists = new HashMap<>();
        final Map<Integer, Node> byId = new HashMap<>();
        final LinkedList<Integer> freeIds = new LinkedList<>();
        int allocated;
        long pagesShared;
        long pagesSharing;
        long chains;
        long chainDups;

        private static long key(int content, int numa) {
            return (long) numa << 32 | content;
        }

        int findCandidate(int content, int numa, int max) {
            Node best = null;
            for (Node n : List.copyOf(lists.getOrDefault(key(content, numa), new LinkedList<>()))) {
                if (n.live == 0) {
                    kill(n);
                } else if (n.rmapLen > 0 && n.rmapLen < max && (best == null || n.rmapLen > best.rmapLen)) {
                    best = n;
                }
            }
            return best == null ? -1 : best.id;
        }

        int insert(int content, int numa) {
            int id = freeIds.isEmpty() ? allocated++ : freeIds.pop();
            Node n = new Node(id, content, numa);
            byId.put(id, n);
            LinkedList<Node> list = lists.computeIfAbsent(key(content, numa), k -> new LinkedList<>());
            list.addFirst(n);
            countChain(list.size() - 1, list.size());
            return id;
        }

        void append(int id, int guest) {
            Node n = byId.get(id);
            if (n.rmapLen++ == 0) {
                pagesShared++;
            } else {
                pagesSharing++;
            }
            n.live++;
        }

        void breakMapping(int id, int guest) {
            byId.get(id).live--;
        }

        void removeRmap(int id, int guest, boolean mapped) {
            Node n = byId.get(id);
            if (mapped) {
                n.live--;
            }
            if (!n.dead && n.live == 0) {
                kill(n);
            }
            if (n.dead) {
                if (--n.rmapLen == 0) {
                    free(n);
                }
                return;
            }
            if (--n.rmapLen == 0) {
                pagesShared--;
                unlink(n);
                free(n);
            } else {
                pagesSharing--;
            }
        }

        long liveNodes() {
            return byId.values().stream().filter(n -> n.live > 0).count();
        }

        private void kill(Node n) {
            pagesShared--;
            pagesSharing -= n.rmapLen - 1;
            n.dead = true;
            unlink(n);
        }

        private void unlink(Node n) {
            LinkedList<Node> list = lists.get(key(n.content, n.numa));
            list.remove(n);
            countChain(list.size() + 1, list.size());
        }

        /** A chain is a content with two or more dups: stable_node_chains and stable_node_dups count them. */
        private void countChain(int before, int after) {
            chains += (after >= 2 ? 1 : 0) - (before >= 2 ? 1 : 0);
            chainDups += (after >= 2 ? after : 0) - (before >= 2 ? before : 0);
        }

        private void free(Node n) {
            byId.remove(n.id);
            freeIds.push(n.id);
        }
    }
}
