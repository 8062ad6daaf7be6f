package org.memhygiene.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.ui.FxFixture.fx;
import static org.memhygiene.ui.FxFixture.waitFx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Label;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.guestmemory.PassBudget;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ZeroPageOnRead;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.Reclaimed;
import org.memhygiene.ui.model.SourceBreakdown;
import org.memhygiene.ui.model.VmRow;
import org.memhygiene.ui.views.DashboardWindow;
import org.memhygiene.ui.views.Units;
import org.testfx.api.FxRobot;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The dashboard as `--connect` shows a real host: a controller over LinuxHost (libvirt's test driver, a real
 * process of this machine standing in for VM web's QEMU, its guest RAM measured page by page), the dashboard
 * reading it through the API with the live breakdown. The overview stacks what came back by source from the
 * measurement, and the VM detail shows the breakdown and how it was measured.
 */
class RealHostDashboardTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    /** The pages read, never written: zero-mapped, or resident where a read fault maps no zero page. */
    private static final long ZERO = ZeroPageOnRead.mapsZeroPage() ? 1500 : 0;

    @TempDir
    Path dir;

    @Test
    void theOverviewStacksTheMeasuredReclaimAndTheVmDetailShowsItsBreakdownAndMethod() throws Exception {
        try (GuestRamChild qemu = GuestRamChild.start("-name", "guest=web")) {
            qemu.map((1024L << 20) / PAGE, false);
            qemu.unique(0, 0, 1000, 1);
            qemu.read(0, 1000, 1500); // zero-mapped, or resident where a read fault maps no zero page
            Path pids = Files.createDirectories(dir.resolve("pids"));
            Files.writeString(pids.resolve("web.pid"), Integer.toString(qemu.pid()));
            String uri = new TestDriverHost()
                    .domain("web", true, Optional.empty(), false)
                    .domain("other", true, Optional.empty(), false)
                    .write(dir.resolve("host.xml"));
            // The daemon's budget, measuring again on every sample: the given-back pages show on the next one.
            GuestMemorySettings settings = new GuestMemorySettings(
                    Optional.of(GuestMemoryMethod.AUTO),
                    new PassBudget(PassBudget.DEFAULT.pagesPerSample(), PassBudget.DEFAULT.maxPerSample()),
                    Optional.of(pids));
            LinuxHost host = new LinuxHost(
                    uri,
                    Duration.ofSeconds(1),
                    Duration.ZERO,
                    KsmSysfs.DEFAULT_ROOT,
                    Path.of("/proc"),
                    Path.of("/sys"),
                    Clock.systemUTC(),
                    settings);
            DashboardModel model = new DashboardModel();
            try (BuiltinController controller =
                            BuiltinController.start(host, Duration.ofMillis(200), SourceBreakdown.FROM_API, true, 0);
                    ControllerClient client = new ControllerClient(controller.url(), Optional.empty())) {
                Dashboard dashboard = new Dashboard(model, client, SourceBreakdown.FROM_API);
                FxToolkit.registerPrimaryStage();
                DashboardWindow window = WaitForAsyncUtils.asyncFx(
                                () -> new DashboardWindow(model, client, "test", DashboardWindow.Theme.LIGHT))
                        .get();
                FxToolkit.setupStage((Stage stage) -> {
                    stage.setScene(window.scene(1280, 800));
                    stage.show();
                });
                dashboard.start();
                try {
                    waitFx(
                            30,
                            () -> web(model).flatMap(r -> r.vm().guestMemory()).isPresent());
                    qemu.dontNeed(0, 0, 250); // given back: it held the guest's data, now nothing
                    waitFx(30, () -> web(model).orElseThrow().reclaimed().freePageReportingBytes() == 250 * PAGE);
                    // VM other has no QEMU process here: its figures are KSM-accounted, with free page reporting
                    // estimated.
                    Reclaimed other = fx(() -> model.rows().stream()
                            .filter(r -> r.vm().name().equals("other"))
                            .findFirst()
                            .orElseThrow()
                            .reclaimed());

                    fx(() -> {
                        window.select(0);
                        window.overview().refresh();
                        return null;
                    });
                    XYChart.Series<Number, Number> sharing =
                            window.overview().reclaimedChart().series(DashboardModel.SHARING);
                    XYChart.Series<Number, Number> zero =
                            window.overview().reclaimedChart().series(DashboardModel.ZERO);
                    XYChart.Series<Number, Number> back =
                            window.overview().reclaimedChart().series(DashboardModel.FPR);
                    double[] layers = fx(() -> {
                        int last = back.getData().size() - 1;
                        double s = sharing.getData().get(last).getYValue().doubleValue();
                        double z = zero.getData().get(last).getYValue().doubleValue();
                        double b = back.getData().get(last).getYValue().doubleValue();
                        return new double[] {s, z - s, b - z};
                    });
                    double zeroBytes = fx(() -> model.host().last(model.host().column(DashboardModel.ZERO)));
                    double backBytes = fx(() -> model.host().last(model.host().column(DashboardModel.FPR)));
                    assertEquals(
                            ZERO * PAGE + other.zeroPageBytes(),
                            zeroBytes,
                            "the zero-mapped pages of web, measured page by page");
                    assertEquals(250 * PAGE + other.freePageReportingBytes(), backBytes, "web's given-back pages");
                    // The chart draws the same layers in one unit of its choosing.
                    assertEquals(
                            zeroBytes / backBytes,
                            layers[1] / layers[2],
                            1e-9,
                            "zero-page and given-back layers: " + layers[1] + ", " + layers[2]);
                    String summary = fx(() ->
                            ((Label) new FxRobot().lookup("#overview-summary").query()).getText());
                    assertTrue(
                            summary.contains("pagemap_scan")
                                    && summary.contains("KSM-accounted (ksm_stat), balloon estimate: 1 VM"),
                            summary);

                    fx(() -> {
                        window.detail().show("web");
                        window.select(5);
                        window.detail().refresh();
                        return null;
                    });
                    String text = fx(() -> ((Label)
                                    new FxRobot().lookup("#detail-guest-memory").query())
                            .getText());
                    assertTrue(text.startsWith("Guest RAM, measured by pagemap_scan"), text);
                    assertTrue(
                            text.contains("reclaimed " + Units.bytes((ZERO + 250) * PAGE) + " = zero page "
                                    + Units.bytes(ZERO * PAGE) + " + given back " + Units.bytes(250 * PAGE)),
                            text);
                    assertTrue(text.contains("of 1.0 GiB"), text);
                    fx(() -> {
                        window.detail().show("other");
                        window.detail().refresh();
                        return null;
                    });
                    String unmeasured = fx(() -> ((Label)
                                    new FxRobot().lookup("#detail-guest-memory").query())
                            .getText());
                    assertTrue(
                            unmeasured.startsWith("Guest RAM not measured page by page")
                                    && unmeasured.contains("ksm_stat"),
                            unmeasured);
                } finally {
                    dashboard.close();
                    FxToolkit.cleanupStages();
                }
            }
        }
    }

    private static Optional<VmRow> web(DashboardModel model) {
        return model.rows().stream().filter(r -> r.vm().name().equals("web")).findFirst();
    }
}
