package org.memhygiene.ui;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javafx.stage.Stage;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.views.DashboardWindow;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The dashboard as a user has it, headless: a real controller (the Daemon) on loopback over the
 * simulator's demo host, and the dashboard's window connected to it through the API.
 */
final class FxFixture implements AutoCloseable {
    /** Fast enough that a few real seconds hold minutes of simulated time; samples every 200 ms. */
    static final double SPEED = 60;

    static final Duration INTERVAL = Duration.ofMillis(200);

    final SimulatedHost host;
    final BuiltinController controller;
    final DashboardModel model = new DashboardModel();
    final Dashboard dashboard;
    final DashboardWindow window;

    FxFixture(boolean dryRun) throws Exception {
        host = SimulatedHost.builtin(Clock.systemUTC(), SPEED);
        controller = BuiltinController.start(host, INTERVAL, dryRun);
        ControllerClient client = new ControllerClient(controller.url(), Optional.empty());
        dashboard = new Dashboard(model, client, BuiltinController.exposureOf(host));
        FxToolkit.registerPrimaryStage();
        window = WaitForAsyncUtils.asyncFx(
                        () -> new DashboardWindow(model, client, controller.source(), DashboardWindow.Theme.LIGHT))
                .get();
        FxToolkit.setupStage((Stage stage) -> {
            stage.setScene(window.scene(1280, 800));
            stage.show();
            stage.toFront();
        });
        dashboard.start();
    }

    /** Evaluates {@code value} on the FX thread and waits for it. */
    static <T> T fx(Callable<T> value) throws Exception {
        return WaitForAsyncUtils.asyncFx(value).get(10, TimeUnit.SECONDS);
    }

    /** Waits up to {@code seconds} until {@code condition}, evaluated on the FX thread, holds. */
    static void waitFx(int seconds, Callable<Boolean> condition) throws Exception {
        WaitForAsyncUtils.waitFor(seconds, TimeUnit.SECONDS, () -> fx(condition));
    }

    @Override
    public void close() throws Exception {
        dashboard.close();
        controller.close();
        FxToolkit.cleanupStages();
    }
}
