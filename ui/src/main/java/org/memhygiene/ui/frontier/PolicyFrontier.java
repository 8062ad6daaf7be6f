package org.memhygiene.ui.frontier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiConsumer;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepPolicy;
import org.memhygiene.simulator.sweep.SweepResult;
import org.memhygiene.ui.model.FrontierPoint;

/**
 * The trade-off view's frontier: the simulator's sweep (policies x hygiene modes) of the scenario the
 * dashboard runs, each cell scored by the controller's own posture scorer, reduced to the cells no other
 * cell beats on both reclaimed memory and posture score. Runs for seconds: call it off the FX thread.
 */
public final class PolicyFrontier {
    /** Simulated time per cell: long enough for ksmd's first full scans and the scrubs. */
    static final Duration CELL_DURATION = Duration.ofMinutes(5);

    private PolicyFrontier() {}

    /**
     * @param progress told (cells done, cells in all) after each cell
     */
    public static List<FrontierPoint> compute(Scenario scenario, BiConsumer<Integer, Integer> progress) {
        List<SweepPolicy> policies = Sweep.defaultPolicies();
        List<HygieneMode> modes = Sweep.defaultModes();
        Duration duration = scenario.duration().compareTo(CELL_DURATION) < 0 ? scenario.duration() : CELL_DURATION;
        PostureScorer scorer = PostureScorer.withoutHostFacts();
        List<FrontierPoint> cells = new ArrayList<>();
        int total = policies.size() * modes.size();
        for (SweepPolicy policy : policies) {
            for (HygieneMode mode : modes) {
                for (SweepResult r : Sweep.run(scenario, List.of(policy), List.of(mode), duration)) {
                    cells.add(point(r.label(), r.reclaimedBytes(), r.finalSnapshot(), scorer.score(r.finalSnapshot())));
                }
                progress.accept(cells.size(), total);
            }
        }
        return paretoFront(cells);
    }

    /** How many cells {@link #compute} sweeps. */
    public static int cells() {
        return Sweep.defaultPolicies().size() * Sweep.defaultModes().size();
    }

    /** Reclaimed memory as a percentage of all guests' memory, against the VMs' mean posture score. */
    static FrontierPoint point(String label, long reclaimedBytes, HostSnapshot end, HostPosture posture) {
        long memory = end.vms().stream()
                .mapToLong(v -> v.domain().currentMemoryBytes())
                .sum();
        double score =
                posture.vms().stream().mapToInt(VmPosture::score).average().orElse(0);
        return new FrontierPoint(label, memory > 0 ? 100.0 * reclaimedBytes / memory : 0, score);
    }

    /** The points no other point matches or beats on both axes (and beats on one), by reclaimed memory. */
    public static List<FrontierPoint> paretoFront(List<FrontierPoint> points) {
        List<FrontierPoint> front = new ArrayList<>();
        for (FrontierPoint p : points) {
            boolean dominated = points.stream()
                    .anyMatch(o -> o != p
                            && o.reclaimedPercent() >= p.reclaimedPercent()
                            && o.score() >= p.score()
                            && (o.reclaimedPercent() > p.reclaimedPercent() || o.score() > p.score()));
            if (!dominated) {
                front.add(p);
            }
        }
        front.sort(Comparator.comparingDouble(FrontierPoint::reclaimedPercent));
        return front;
    }
}
