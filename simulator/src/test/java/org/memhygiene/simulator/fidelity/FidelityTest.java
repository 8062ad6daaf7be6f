package org.memhygiene.simulator.fidelity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The simulator against this machine's real KSM (FidelityHarness): the small zero-page scenario run
 * for real in child processes and simulated, every sample after the first full scan within 5 % or 16
 * pages. Changes the KSM knobs and puts them back; run KSM tests under flock /tmp/memhygiene-ksm.lock.
 */
class FidelityTest {
    private static java.util.Map<String, String> knobs() throws java.io.IOException {
        java.util.Map<String, String> values = new java.util.TreeMap<>();
        for (String knob : new String[] {"run", "pages_to_scan", "sleep_millisecs", "use_zero_pages", "smart_scan",
                "max_page_sharing", "merge_across_nodes", "advisor_mode"}) {
            values.put(knob, java.nio.file.Files.readString(org.memhygiene.core.ksm.KsmSysfs.DEFAULT_ROOT.resolve(knob)).strip());
        }
        return values;
    }

    @Test
    void simulatedCountersFollowTheRealKernel() throws Exception {
        String reason = FidelityHarness.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "skipped: " + reason);
        var others = FidelityHarness.mergeableProcesses();
        Assumptions.assumeTrue(others.isEmpty(), () -> "skipped: other processes use KSM (their pages would be unmerged"
                + " and counted): " + others);
        Scenario s = ScenarioParser.resource(FidelityHarness.SCENARIOS.get(0));
        java.util.Map<String, String> before = knobs();
        FidelityHarness.Report r = FidelityHarness.run(s);
        org.junit.jupiter.api.Assertions.assertEquals(before, knobs(), "every knob is back to what it was");
        System.out.println(FidelityHarness.markdown(r, 10));
        assertTrue(r.compared() > 50, "samples after the first full scan: " + r.compared());
        assertTrue(r.withinTarget(), "outside the target: " + r.violations());
    }
}
