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
 * dashboard runs, the cells on the sweep's own frontier ({@link Sweep#markFrontier}, the one {@code sim sweep}
 * marks: reclaimed memory against cross-VM sharing and stale secrets), each placed by its reclaimed memory and
 * the controller's posture score of its final host. Runs for seconds: call it off the FX thread.
 */
public final class PolicyFrontier {
    /** Simulated time per cell: long enough for ksmd's first full scans and the scrubs. */
    static final Duration CELL_DURATION = Duration.ofMinutes(5);

    private PolicyFrontier() {}

    /**
     * @param progress told (cells done, cells in all) after each cell
     * @return the frontier's cells by reclaimed memory
     */
    public static List<FrontierPoint> compute(Scenario scenario, BiConsumer<Integer, Integer> progress) {
        List<SweepPolicy> policies = Sweep.defaultPolicies();
        List<HygieneMode> modes = Sweep.defaultModes();
        Duration duration = cellDuration(scenario);
        List<SweepResult> cells = new ArrayList<>();
        int total = policies.size() * modes.size();
        for (SweepPolicy policy : policies) {
            for (HygieneMode mode : modes) {
                cells.addAll(Sweep.run(scenario, List.of(policy), List.of(mode), duration));
                progress.accept(cells.size(), total);
            }
        }
        PostureScorer scorer = PostureScorer.withoutHostFacts();
        return Sweep.markFrontier(cells).stream()
                .filter(SweepResult::frontier)
                .map(r -> point(r.label(), r.reclaimedBytes(), r.finalSnapshot(), scorer.score(r.finalSnapshot())))
                .sorted(Comparator.comparingDouble(FrontierPoint::reclaimedPercent))
                .toList();
    }

    /** The simulated time of each cell: the scenario's duration, at most {@link #CELL_DURATION}. */
    static Duration cellDuration(Scenario scenario) {
        return scenario.duration().compareTo(CELL_DURATION) < 0 ? scenario.duration() : CELL_DURATION;
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
}
