package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.ScenarioParser;

class UnstableTreeTest {
    private final HostModel model = new Simulation(ScenarioParser.parse("""
            name: tree
            ksm: {run: 0}
            guests: [{name: g, memory: 64MiB, start_at: never}]
            """, "test")).model();
    private final UnstableTree tree = new UnstableTree(model);

    /** Files pages 0 to count - 1 under contents of one image, each found by none before it. */
    private void file(int count) {
        for (int p = 0; p < count; p++) {
            model.content[p] = Content.shared(Content.OS_IMAGE, 1, p * 3); // spread over several chunks
            assertEquals(-1, tree.searchInsert(p, model.content[p], 0, 0), "page " + p + " has no twin yet");
            model.flags[p] |= PageFlags.UNSTABLE; // as Ksmd.cmpAndMerge does after the call
        }
    }

    @Test
    void everyFiledPageIsFoundByItsTwin() {
        // 2,049 pages: the 2,049th insert was the one a hash table's growth lost (issue 17's defect 1).
        int filed = 2049;
        file(filed);
        for (int p = 0; p < filed; p++) {
            int twin = filed + p;
            model.content[twin] = model.content[p];
            assertEquals(p, tree.searchInsert(twin, model.content[twin], 0, 0), "the twin of page " + p + " finds it");
        }
    }

    @Test
    void aPageIsNotFoundOnceWrittenOrInTheNextScanOrOnAnotherNode() {
        file(3);
        int twin = 100;
        model.content[twin] = model.content[0];
        assertEquals(-1, tree.searchInsert(twin, model.content[twin], 1, 0), "merge_across_nodes=0: node 1's tree");
        model.content[1] = Content.shared(Content.PAGE_CACHE, 1, 7); // written since it was filed
        model.content[twin + 1] = Content.shared(Content.OS_IMAGE, 1, 3);
        assertEquals(-1, tree.searchInsert(twin + 1, model.content[twin + 1], 0, 0), "page 1 holds other content now");
        model.flags[twin + 1] |= PageFlags.UNSTABLE;
        assertEquals(twin + 1, tree.searchInsert(twin + 2, model.content[twin + 1], 0, 0), "the page filed instead");
        tree.clear(); // a new full scan: the tree starts empty, whatever the pages' flags say
        model.content[twin + 3] = model.content[2];
        assertEquals(-1, tree.searchInsert(twin + 3, model.content[2], 0, 0), "page 2 was filed in the last scan");
        model.flags[twin + 3] |= PageFlags.UNSTABLE;
        assertEquals(twin + 3, tree.searchInsert(twin + 4, model.content[2], 0, 0));
    }
}
