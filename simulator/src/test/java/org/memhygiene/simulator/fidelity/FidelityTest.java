package org.memhygiene.simulator.fidelity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The simulator against this machine's real KSM (FidelityHarness): the small zero-page scenario run
 * for real in child processes and simulated, every sample after the first full scan within 5 % or 16
 * pages. Changes the KSM knobs and puts them back; run KSM tests under flock /tmp/memhygiene-ksm.lock.
 */
@ExtendWith(KsmHostLock.class)
class FidelityTest {
    private static Map<String, String> knobs() throws IOException {
        Map<String, String> values = new TreeMap<>();
        for (String knob : new String[] {
            "run",
            "pages_to_scan",
            "sleep_millisecs",
            "use_zero_pages",
            "smart_scan",
            "max_page_sharing",
            "merge_across_nodes",
            "advisor_mode"
        }) {
            values.put(
                    knob, Files.readString(KsmSysfs.DEFAULT_ROOT.resolve(knob)).strip());
        }
        return values;
    }

    @Test
    void simulatedCountersFollowTheRealKernel() throws Exception {
        String reason = FidelityHarness.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "skipped: " + reason);
        var others = FidelityHarness.mergeableProcesses();
        Assumptions.assumeTrue(
                others.isEmpty(),
                () -> "skipped: other processes use KSM (their pages would be unmerged" + " and counted): " + others);
        Scenario s = ScenarioParser.resource(FidelityHarness.SCENARIOS.get(0));
        Map<String, String> before = knobs();
        FidelityHarness.Report r = FidelityHarness.run(s);
        Assertions.assertEquals(before, knobs(), "every knob is back to what it was");
        System.out.println(FidelityHarness.markdown(r, 10));
        assertTrue(r.compared() > 50, "samples after the first full scan: " + r.compared());
        assertTrue(r.withinTarget(), "outside the target: " + r.violations());
    }
}
