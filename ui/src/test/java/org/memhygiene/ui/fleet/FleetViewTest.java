package org.memhygiene.ui.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.metrics.RealPrometheus;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.ui.BuiltinController;
import org.memhygiene.ui.DrawnWhole;
import org.memhygiene.ui.SnapshotCheck;
import org.memhygiene.ui.export.ChartExport;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The fleet view against a real Prometheus (Debian's prometheus package) scraping three daemons on simulated
 * hosts with different scenarios, all on loopback: every host with the figures Prometheus holds, the alerts firing
 * for it, sorted, filtered, and a host opened at its own API.
 */
class FleetViewTest {
    private static final Path SCENARIOS = Path.of("..", "docs", "scenarios");
    private static final Duration INTERVAL = Duration.ofMillis(200);

    @TempDir
    Path dir;

    @Test
    void listsEveryScrapedHostWithItsFiguresAndAlertsSortedFilteredAndOpensOne() throws Exception {
        RealPrometheus.assumeInstalled("FleetViewTest");
        List<BuiltinController> daemons = new ArrayList<>();
        RealPrometheus prometheus = null;
        FleetView view = null;
        try {
            daemons.add(BuiltinController.start(SimulatedHost.builtin(Clock.systemUTC(), 60), INTERVAL, true));
            daemons.add(BuiltinController.start(
                    SimulatedHost.load(SCENARIOS.resolve("idle-guests.yaml"), Clock.systemUTC(), 60), INTERVAL, true));
            daemons.add(BuiltinController.start(
                    SimulatedHost.load(SCENARIOS.resolve("web-farm.yaml"), Clock.systemUTC(), 60), INTERVAL, true));
            List<String> instances = new ArrayList<>();
            for (BuiltinController d : daemons) {
                instances.add(d.url().getHost() + ":" + d.url().getPort());
            }
            // Our alerts need minutes ("for:"); one that fires at once for the first host shows the column works.
            Path rules = Files.writeString(
                    dir.resolve("rules.yml"),
                    "groups:\n  - name: test\n    rules:\n      - alert: TestHostAlert\n"
                            + "        expr: memhygiene_samples_total{instance=\"" + instances.get(0) + "\"} > 0\n");
            prometheus = RealPrometheus.start(
                    dir,
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['" + rules + "']\n"
                            + "scrape_configs:\n  - job_name: memhygiene\n    static_configs:\n      - targets: "
                            + instances.stream().map(i -> "'" + i + "'").toList() + "\n");
            RealPrometheus server = prometheus;
            // Prometheus's own progress: three posture series and the alert firing (a scrape a second).
            WaitForAsyncUtils.waitFor(
                    120,
                    TimeUnit.SECONDS,
                    () -> server.query("memhygiene_posture_score{scope=\"host\"}")
                                            .size()
                                    == 3
                            && server.query("ALERTS{alertstate=\"firing\"}").size() == 1
                            && server.query("memhygiene_vm_reclaimed_bytes").size() > 0
                            && server.query("memhygiene_vm_guest_memory_method").size() > 0);

            List<URI> opened = new CopyOnWriteArrayList<>();
            FxToolkit.registerPrimaryStage();
            FleetView fleet = new FleetView(new PrometheusFleet(prometheus.base(), "memhygiene"), opened::add);
            view = fleet;
            FxToolkit.setupStage((Stage stage) -> {
                stage.setScene(new Scene(fleet.root(), 1000, 400));
                stage.show();
            });
            fleet.refresh();
            WaitForAsyncUtils.waitFor(
                    20,
                    TimeUnit.SECONDS,
                    () -> fx(() -> fleet.table().getItems().size() == 3));

            List<FleetHost> rows = fx(() -> List.copyOf(fleet.table().getItems()));
            assertEquals(
                    instances.stream().sorted().toList(),
                    rows.stream().map(FleetHost::instance).sorted().toList());
            for (FleetHost h : rows) {
                assertTrue(h.up(), h.toString());
                assertTrue(h.vms() > 0, h.toString());
                assertTrue(h.postureScore().isPresent(), h.toString());
                assertTrue(h.reclaimedBytes().isPresent(), h.toString());
                assertEquals(
                        List.of("simulator (model) ×" + h.vms()),
                        h.reclaimedMethods(),
                        "how the reclaimed figure was measured, for every VM: " + h);
                assertEquals(
                        h.instance().equals(instances.get(0)) ? List.of("TestHostAlert") : List.of(),
                        h.firingAlerts(),
                        h.instance());
            }
            for (int i = 1; i < rows.size(); i++) {
                assertTrue(
                        rows.get(i - 1).postureScore().getAsDouble()
                                <= rows.get(i).postureScore().getAsDouble(),
                        "worst posture first: " + rows);
            }
            assertTrue(
                    rows.stream()
                                            .map(h -> h.postureScore().getAsDouble())
                                            .distinct()
                                            .count()
                                    > 1
                            || rows.stream().map(FleetHost::vms).distinct().count() > 1,
                    "three different scenarios, three different hosts: " + rows);

            // Every figure, host, method (with its number of VMs) and alert shows whole at the window's width.
            assertEquals(List.of(), fx(() -> {
                fleet.root().applyCss();
                ((Parent) fleet.root()).layout();
                return DrawnWhole.inTable(fleet.table(), title -> true, rows.size());
            }));

            // The picture in docs/FLEET.md (copied from here by hand when the view changes).
            fx(() -> {
                ChartExport.png(fleet.root(), Path.of("target", "fleet-view.png"));
                return null;
            });
            assertTrue(SnapshotCheck.drawn(Path.of("target", "fleet-view.png")), "the fleet view has drawn content");

            fx(() -> {
                fleet.filter().setText("TestHost");
                return null;
            });
            assertEquals(
                    List.of(instances.get(0)),
                    fx(() -> fleet.table().getItems().stream()
                            .map(FleetHost::instance)
                            .toList()));
            fx(() -> {
                fleet.filter().setText(instances.get(2));
                return null;
            });
            FleetHost third = fx(() -> fleet.table().getItems().get(0));
            assertEquals(instances.get(2), third.instance());
            fx(() -> {
                fleet.open(third);
                return null;
            });
            WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> opened.size() == 1);
            assertEquals(daemons.get(2).url().resolve("/"), opened.get(0).resolve("/"), "the host's own API");
        } finally {
            if (view != null) {
                view.close();
            }
            FxToolkit.cleanupStages();
            if (prometheus != null) {
                prometheus.close();
            }
            daemons.forEach(BuiltinController::close);
        }
    }

    private static <T> T fx(java.util.concurrent.Callable<T> value) throws Exception {
        return WaitForAsyncUtils.asyncFx(value).get(10, TimeUnit.SECONDS);
    }
}
