package org.memhygiene.ui.frontier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepResult;
import org.memhygiene.ui.model.FrontierPoint;

/**
 * The dashboard draws the frontier {@code sim sweep} marks, not one of its own (issue 14), on the axes of its VM
 * points (issue 16): each frontier point is a VM of a marked cell, at what that VM reclaimed of its own memory and
 * its own posture score, and no VM of a marked cell lies beyond the drawn line.
 */
class PolicyFrontierTest {
    @Test
    void theDashboardsFrontierIsTheCellsSimSweepMarksPerVm() {
        Scenario demo = ScenarioParser.demo();
        List<Integer> progress = new ArrayList<>();
        List<FrontierPoint> drawn = PolicyFrontier.compute(demo, (done, total) -> progress.add(done));

        List<SweepResult> swept =
                Sweep.run(demo, Sweep.defaultPolicies(), Sweep.defaultModes(), PolicyFrontier.cellDuration(demo));
        List<SweepResult> marked = swept.stream().filter(SweepResult::frontier).toList();
        assertTrue(
                marked.size() < swept.size(), "a sweep where every cell is on the frontier proves nothing: " + marked);
        assertFalse(drawn.isEmpty());
        PostureScorer scorer = PostureScorer.withoutHostFacts();
        List<FrontierPoint> vmPoints = new ArrayList<>();
        for (SweepResult cell : marked) {
            vmPoints.addAll(PolicyFrontier.vmPoints(cell, scorer.score(cell.finalSnapshot())));
        }
        for (FrontierPoint p : drawn) {
            assertTrue(
                    marked.stream().anyMatch(c -> c.label().equals(p.cell())),
                    p.cell() + " is a cell sim sweep marks: "
                            + marked.stream().map(SweepResult::label).toList());
            assertTrue(vmPoints.contains(p), "a drawn point is one VM of its cell, on the VMs' axes: " + p);
        }
        for (FrontierPoint vm : vmPoints) {
            assertTrue(
                    drawn.stream()
                            .anyMatch(f -> f.reclaimedPercent() >= vm.reclaimedPercent() && f.score() >= vm.score()),
                    "no VM of a frontier cell lies beyond the drawn frontier: " + vm + " against " + drawn);
        }
        assertEquals(PolicyFrontier.cells(), progress.size(), "one progress report per cell");
        for (int i = 1; i < drawn.size(); i++) {
            assertTrue(
                    drawn.get(i - 1).reclaimedPercent() <= drawn.get(i).reclaimedPercent()
                            && drawn.get(i - 1).score() > drawn.get(i).score(),
                    "drawn by reclaimed memory, each step trading posture for memory: " + drawn);
        }
    }
}
