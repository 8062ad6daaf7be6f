package org.memhygiene.ui.frontier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepPolicy;
import org.memhygiene.simulator.sweep.SweepResult;
import org.memhygiene.ui.model.FrontierPoint;

/**
 * The trade-off view's frontier: the simulator's sweep (policies x hygiene modes) of the scenario the
 * dashboard runs, the cells on the sweep's own frontier ({@link Sweep#markFrontier}, the one {@code sim sweep}
 * marks: reclaimed memory against cross-VM sharing and stale secrets), placed on the view's own axes: each VM of
 * those cells at what it reclaimed (percent of its memory, as the simulator counts it: its share of KSM sharing,
 * its zero pages, its free page reporting) and the controller's posture score of it, and of those points the
 * upper-right envelope, so a VM point of the dashboard and a frontier point mean the same thing. Runs for
 * seconds: call it off the FX thread.
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
        List<FrontierPoint> points = new ArrayList<>();
        for (SweepResult cell : Sweep.markFrontier(cells)) {
            if (cell.frontier()) {
                points.addAll(vmPoints(cell, scorer.score(cell.finalSnapshot())));
            }
        }
        return envelope(points);
    }

    /** The simulated time of each cell: the scenario's duration, at most {@link #CELL_DURATION}. */
    static Duration cellDuration(Scenario scenario) {
        return scenario.duration().compareTo(CELL_DURATION) < 0 ? scenario.duration() : CELL_DURATION;
    }

    /** How many cells {@link #compute} sweeps. */
    public static int cells() {
        return Sweep.defaultPolicies().size() * Sweep.defaultModes().size();
    }

    /** Each running VM of {@code cell}: what it reclaimed, percent of its memory, and its posture score. */
    static List<FrontierPoint> vmPoints(SweepResult cell, HostPosture posture) {
        List<FrontierPoint> points = new ArrayList<>();
        for (Exposure.VmReclaim reclaim : cell.exposure().vms()) {
            Optional<VmSnapshot> vm = cell.finalSnapshot().vms().stream()
                    .filter(v -> v.domain().uuid().equals(reclaim.uuid())
                            && v.domain().state().hasQemuProcess())
                    .findFirst();
            Optional<VmPosture> scored = posture.vm(reclaim.uuid());
            if (vm.isEmpty() || scored.isEmpty() || vm.get().domain().currentMemoryBytes() <= 0) {
                continue;
            }
            points.add(new FrontierPoint(
                    cell.label(),
                    reclaim.name(),
                    100.0 * reclaim.totalBytes() / vm.get().domain().currentMemoryBytes(),
                    scored.get().score()));
        }
        return points;
    }

    /** The points no other point beats on both axes (more reclaimed and a better score), by reclaimed memory. */
    static List<FrontierPoint> envelope(List<FrontierPoint> points) {
        List<FrontierPoint> byReclaimedDown = points.stream()
                .sorted(Comparator.comparingDouble(FrontierPoint::reclaimedPercent)
                        .reversed()
                        .thenComparing(
                                Comparator.comparingDouble(FrontierPoint::score).reversed()))
                .toList();
        List<FrontierPoint> kept = new ArrayList<>();
        double bestScore = Double.NEGATIVE_INFINITY;
        for (FrontierPoint p : byReclaimedDown) {
            if (p.score() > bestScore) {
                kept.add(p);
                bestScore = p.score();
            }
        }
        kept.sort(Comparator.comparingDouble(FrontierPoint::reclaimedPercent));
        return kept;
    }
}
