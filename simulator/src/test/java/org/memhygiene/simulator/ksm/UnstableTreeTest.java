package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.ScenarioParser;

class UnstableTreeTest {
    @Test
    void thePageWhoseInsertGrowsTheTableStaysInIt() {
        HostModel model = new Simulation(ScenarioParser.parse("""
                name: tree
                ksm: {run: 0}
                guests: [{name: g, memory: 64MiB, start_at: never}]
                """, "test")).model();
        UnstableTree tree = new UnstableTree(model);
        // The table starts at 4096 slots and grows past half full: the 2,049th insert grows it.
        int filed = 2049;
        for (int p = 0; p < filed; p++) {
            model.content[p] = Content.shared(Content.OS_IMAGE, 1, p);
            assertEquals(-1, tree.searchInsert(p, model.content[p], 0, 0), "page " + p + " has no twin yet");
            model.flags[p] |= PageFlags.UNSTABLE; // as Ksmd.cmpAndMerge does after the call
        }
        for (int p = 0; p < filed; p++) {
            int twin = filed + p;
            model.content[twin] = model.content[p];
            assertEquals(p, tree.searchInsert(twin, model.content[twin], 0, 0), "the twin of page " + p + " finds it");
        }
    }
}
