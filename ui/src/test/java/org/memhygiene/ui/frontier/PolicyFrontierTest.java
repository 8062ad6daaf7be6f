package org.memhygiene.ui.frontier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepResult;
import org.memhygiene.ui.model.FrontierPoint;

/** The dashboard draws the frontier {@code sim sweep} marks, not one of its own (issue 14). */
class PolicyFrontierTest {
    @Test
    void theDashboardsFrontierIsTheCellsSimSweepMarks() {
        Scenario demo = ScenarioParser.demo();
        List<Integer> progress = new ArrayList<>();
        List<FrontierPoint> drawn = PolicyFrontier.compute(demo, (done, total) -> progress.add(done));

        List<SweepResult> swept =
                Sweep.run(demo, Sweep.defaultPolicies(), Sweep.defaultModes(), PolicyFrontier.cellDuration(demo));
        List<String> marked = swept.stream()
                .filter(SweepResult::frontier)
                .map(SweepResult::label)
                .sorted()
                .toList();
        assertTrue(
                marked.size() < swept.size(), "a sweep where every cell is on the frontier proves nothing: " + marked);
        assertEquals(
                marked,
                drawn.stream().map(FrontierPoint::label).sorted().toList(),
                "the dashboard's frontier against the sweep's marks");
        assertEquals(PolicyFrontier.cells(), progress.size(), "one progress report per cell");
        for (int i = 1; i < drawn.size(); i++) {
            assertTrue(
                    drawn.get(i - 1).reclaimedPercent() <= drawn.get(i).reclaimedPercent(),
                    "drawn by reclaimed memory: " + drawn);
        }
    }
}
