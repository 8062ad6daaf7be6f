package org.memhygiene.ui.frontier;

import javafx.application.Platform;
import org.memhygiene.core.units.Count;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.ui.model.DashboardModel;

/** Computes the frontier on its own thread, with its progress in the model's frontier status. */
public final class FrontierTask {
    /** The status text while the sweep runs; the trade-off view shows a progress indicator meanwhile. */
    public static final String COMPUTING = "computing";

    private FrontierTask() {}

    public static Thread start(Scenario scenario, DashboardModel model) {
        model.frontierStatus().set(COMPUTING + " the policy frontier (simulator sweep of '" + scenario.name() + "')…");
        Thread thread = new Thread(
                () -> {
                    try {
                        var points = PolicyFrontier.compute(
                                scenario,
                                (done, total) -> Platform.runLater(() -> model.frontierStatus()
                                        .set(COMPUTING + " the policy frontier (simulator sweep of '" + scenario.name()
                                                + "'): " + done + " of " + total + " policy × hygiene cells…")));
                        Platform.runLater(() -> {
                            model.frontier().setAll(points);
                            model.frontierStatus()
                                    .set("Policy frontier: the best of " + (PolicyFrontier.cells())
                                            + " simulated policy × hygiene" + " cells of '" + scenario.name() + "' ("
                                            + Count.of(points.size(), "VM")
                                            + " of its frontier cells on the dashed line, after "
                                            + Count.of(
                                                    PolicyFrontier.cellDuration(scenario)
                                                            .toMinutes(),
                                                    "simulated minute")
                                            + " each).");
                        });
                    } catch (RuntimeException e) {
                        Platform.runLater(
                                () -> model.frontierStatus().set("no frontier: the sweep failed: " + e.getMessage()));
                    }
                },
                "memhygiene-ui-frontier");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY); // the live view comes first
        thread.start();
        return thread;
    }
}
