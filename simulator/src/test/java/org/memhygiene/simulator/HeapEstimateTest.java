package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.simulator.ksm.ContentTable;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

class HeapEstimateTest {
    /**
     * Zero pages beyond max_page_sharing make dups of one content, each with an entry in its chain's
     * index besides its stable node: with max_page_sharing 2 instead of 4 twice as many dups, each
     * costing a KSM page's bytes and a chain entry's.
     */
    @Test
    void theDupsMaxPageSharingMakesAreCountedWithTheirChainIndex() {
        Scenario webFarm = ScenarioParser.load(Path.of("../docs/scenarios/web-farm.yaml"));
        HeapEstimate four = HeapEstimate.of(withMaxPageSharing(webFarm, 4));
        HeapEstimate two = HeapEstimate.of(withMaxPageSharing(webFarm, 2));
        long moreDups = two.ksmPages() - four.ksmPages();
        assertTrue(moreDups > 100_000, moreDups + " more dups of web-farm's zero pages");
        assertEquals(
                moreDups * (HeapEstimate.BYTES_PER_KSM_PAGE + HeapEstimate.BYTES_PER_CHAIN_DUP),
                two.ksmTableBytes() - four.ksmTableBytes(),
                moreDups + " more dups");
    }

    /**
     * With merge_across_nodes=0 each NUMA node has its own trees, each with content tables over the same
     * ids: two nodes, twice the tables; with merging across nodes, one.
     */
    @Test
    void theContentTablesAreCountedPerNumaNodeWhenNodesDoNotMerge() {
        String guests = """
                guests:
                  - {name: a, memory: 1GiB, numa_node: 0}
                  - {name: b, memory: 1GiB, numa_node: 1}
                """;
        HeapEstimate across =
                HeapEstimate.of(ScenarioParser.parse("name: n\nksm: {merge_across_nodes: 1}\n" + guests, "t"));
        HeapEstimate apart =
                HeapEstimate.of(ScenarioParser.parse("name: n\nksm: {merge_across_nodes: 0}\n" + guests, "t"));
        long tables = apart.ksmTableBytes() - across.ksmTableBytes();
        assertEquals(across.ksmPages(), apart.ksmPages());
        assertEquals(0, tables % ContentTable.BYTES_PER_CONTENT);
        // One node's tables: at least one image's OS image, page-cache and secret pages.
        assertTrue(tables / ContentTable.BYTES_PER_CONTENT > 10_000, tables + " bytes more");
    }

    /**
     * Page-cache churn reads files from a pool twice the page cache, so its ids double; a churn event
     * that starts it counts as much as churn from the start.
     */
    @Test
    void pageCacheChurnThatAnEventStartsIsCountedToo() {
        String guest = "guests:\n  - {name: a, memory: 1GiB}\n";
        HeapEstimate idle = HeapEstimate.of(ScenarioParser.parse("name: n\n" + guest, "t"));
        HeapEstimate fromStart =
                HeapEstimate.of(ScenarioParser.parse("name: n\ndefaults: {churn: {page_cache: 10}}\n" + guest, "t"));
        HeapEstimate byEvent = HeapEstimate.of(ScenarioParser.parse(
                "name: n\n" + guest + "events:\n  - {at: 1m, guest: a, action: churn, churn: {page_cache: 10}}\n",
                "t"));
        assertTrue(fromStart.ksmTableBytes() > idle.ksmTableBytes(), "churn from the start counts more ids");
        assertEquals(fromStart.ksmTableBytes(), byEvent.ksmTableBytes(), "a churn event counts as much");
    }

    private static Scenario withMaxPageSharing(Scenario s, int max) {
        Map<KsmKnob, String> ksm = new EnumMap<>(KsmKnob.class);
        ksm.putAll(s.ksm());
        ksm.put(KsmKnob.MAX_PAGE_SHARING, Integer.toString(max));
        return s.withKsm(ksm);
    }
}
