package org.memhygiene.simulator.fidelity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.scenario.ScenarioParser;

/** The harness's comparison rule and its scenario checks, without touching KSM. */
class FidelityCompareTest {
    static FidelityHarness.Sample s(long shared, long scans) {
        return new FidelityHarness.Sample(1, shared, 0, 0, 0, scans, 0);
    }

    @Test
    void samplesBeforeTheFirstFullScanDoNotCountAndTheToleranceIsFivePercentOrSixteenPages() {
        var real = List.of(s(0, 0), s(1000, 1), s(100, 2), s(1000, 3));
        var within = List.of(s(500, 0), s(1049, 1), s(116, 2), s(951, 3));
        var r = FidelityHarness.compare("t", real, within, within, List.of());
        assertEquals(3, r.compared());
        assertTrue(r.withinTarget(), r.violations().toString());
        var off = List.of(s(0, 0), s(1051, 1), s(100, 2), s(1000, 5));
        var bad = FidelityHarness.compare("t", real, off, off, List.of());
        assertFalse(bad.withinTarget());
        assertEquals(2, bad.violations().size(), bad.violations().toString());
    }

    @Test
    void scenariosWithRandomWritesCannotBeReplayed() {
        var s = ScenarioParser.parse("name: churn\nguests: [{name: a, boot: 0s, churn: {anon: 10}}]", "t");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FidelityHarness.run(s));
        assertTrue(e.getMessage().contains("no churn"), e.getMessage());
    }
}
