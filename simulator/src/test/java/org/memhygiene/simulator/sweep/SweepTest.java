package org.memhygiene.simulator.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

class SweepTest {
    private static final Scenario S = ScenarioParser.parse("""
            name: sweep
            guests:
              - {name: g, count: 2, memory: 16MiB, boot: 0s, free_memory: {stale: 0.7, stale_secret: 0.2, zero: 0.1},
                 sharing: {os_image: 0.9}}
            """, "test");

    @Test
    void gridCoversEveryPolicyAndModeWithTheExpectedOrdering() {
        List<SweepResult> results = Sweep.run(S, Sweep.defaultPolicies(), Sweep.defaultModes(), Duration.ofMinutes(2));
        assertEquals(16, results.size());
        SweepResult off = find(results, "off", HygieneMode.NONE);
        assertEquals(0, off.reclaimedBytes(), "KSM off, no hygiene: nothing comes back");
        SweepResult zeroScrub = find(results, "zero-pages", HygieneMode.INIT_ON_FREE);
        SweepResult zeroNone = find(results, "zero-pages", HygieneMode.NONE);
        assertTrue(
                zeroScrub.reclaimedBytes() > zeroNone.reclaimedBytes(), "zeroed free memory merges into the zero page");
        assertTrue(zeroScrub.exposure().staleSecretPageSeconds()
                < zeroNone.exposure().staleSecretPageSeconds());
        assertTrue(
                find(results, "off", HygieneMode.FREE_PAGE_REPORTING).reclaimedBytes() > 0,
                "free page reporting gives memory back without KSM");
        assertTrue(zeroNone.exposure().crossVmMergedNonZeroPages() > 0);
        assertEquals(0, off.exposure().crossVmMergedNonZeroPages());
        assertTrue(!off.frontier(), "KSM off with init_on_free reclaims as little and leaves fewer stale secrets");
        assertTrue(find(results, "off", HygieneMode.INIT_ON_FREE).frontier());
        SweepResult most = results.stream()
                .max(Comparator.comparingLong(SweepResult::reclaimedBytes))
                .orElseThrow();
        assertTrue(most.frontier(), "nothing reclaims more than the cell that reclaims most: " + most.label());
        assertTrue(results.stream().filter(SweepResult::frontier).count() < results.size());
        assertTrue(zeroNone.finalSnapshot().vms().size() == 2);
    }

    /** Cells run side by side, longest first, and come back in grid order with the results of a serial run. */
    @Test
    void cellsSideBySideGiveTheSerialResultsInGridOrder() {
        List<SweepResult> serial = Sweep.run(
                S, Sweep.defaultPolicies(), Sweep.defaultModes(), Duration.ofMinutes(2), ScanEngine.SKIP_SETTLED, 1);
        List<SweepResult> sideBySide = Sweep.run(
                S, Sweep.defaultPolicies(), Sweep.defaultModes(), Duration.ofMinutes(2), ScanEngine.SKIP_SETTLED, 3);
        List<String> grid = new ArrayList<>();
        for (SweepPolicy p : Sweep.defaultPolicies()) {
            for (HygieneMode m : Sweep.defaultModes()) {
                grid.add(p.label() + " / " + m.label());
            }
        }
        assertEquals(grid, serial.stream().map(SweepResult::label).toList());
        assertEquals(grid, sideBySide.stream().map(SweepResult::label).toList());
        assertEquals(
                serial.stream()
                        .map(r -> r.reclaimedBytes() + " " + r.exposure())
                        .toList(),
                sideBySide.stream()
                        .map(r -> r.reclaimedBytes() + " " + r.exposure())
                        .toList());
    }

    private static SweepResult find(List<SweepResult> results, String policy, HygieneMode mode) {
        return results.stream()
                .filter(r -> r.policy().equals(policy) && r.hygieneMode() == mode)
                .findFirst()
                .orElseThrow();
    }
}
