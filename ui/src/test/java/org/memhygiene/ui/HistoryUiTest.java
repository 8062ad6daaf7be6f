package org.memhygiene.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.ui.FxFixture.fx;
import static org.memhygiene.ui.FxFixture.waitFx;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javafx.scene.chart.XYChart;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.SeriesTable;
import org.memhygiene.ui.model.Timestamps;
import org.memhygiene.ui.model.VmRow;
import org.memhygiene.ui.views.DashboardWindow;
import org.testfx.api.FxRobot;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The time ranges over the controller's history: a real controller on loopback records half an hour
 * of simulated time before the dashboard connects; the dashboard's charts then reach back before the
 * connection, a longer range loads more, the VM detail loads its VM's history, and a failed load keeps
 * the live samples.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HistoryUiTest {
    /**
     * The simulator's clock: real time sped up 300 times while the controller records (60 simulated s per
     * 200 ms sample: 30 samples are half an hour, more than the first range's 15 min), then 6 times once the
     * dashboard connects, so a slow machine does not slide the connection out of a range mid-test.
     */
    private static final RateClock CLOCK = new RateClock(300);

    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Instant EVER_FROM = Instant.parse("2000-01-01T00:00:00Z");
    private static final Instant EVER_TO = Instant.parse("2100-01-01T00:00:00Z");

    private static BuiltinController controller;
    private static final DashboardModel model = new DashboardModel();
    private static Dashboard dashboard;
    private static DashboardWindow window;
    /** The controller's newest sample before the dashboard connected: every live row is at or after it. */
    private static double connectedSeconds;

    private final FxRobot robot = new FxRobot();

    @BeforeAll
    static void start() throws Exception {
        controller = BuiltinController.start(SimulatedHost.builtin(CLOCK, 1), INTERVAL, true);
        ControllerClient client = new ControllerClient(controller.url(), Optional.empty());
        // The built-in controller records every sample here: 60 simulated s apart, more than history.interval_millis.
        WaitForAsyncUtils.waitFor(
                30,
                TimeUnit.SECONDS,
                () -> client.history(EVER_FROM, EVER_TO, Optional.empty())
                                .get()
                                .path("points")
                                .size()
                        >= 30);
        CLOCK.rate(6);
        connectedSeconds = client.snapshot().get().sampledAt().toEpochMilli() / 1000.0;
        dashboard = new Dashboard(model, client, controller.breakdown());
        FxToolkit.registerPrimaryStage();
        window = WaitForAsyncUtils.asyncFx(
                        () -> new DashboardWindow(model, client, "test", DashboardWindow.Theme.LIGHT))
                .get();
        FxToolkit.setupStage((Stage stage) -> {
            stage.setScene(window.scene(1280, 800));
            stage.show();
        });
        dashboard.start();
    }

    /** Real time at an adjustable rate (the simulator advances by this clock's elapsed time). */
    private static final class RateClock extends Clock {
        private Instant base = Instant.now();
        private long baseNanos = System.nanoTime();
        private double rate;

        RateClock(double rate) {
            this.rate = rate;
        }

        synchronized void rate(double newRate) {
            base = instant();
            baseNanos = System.nanoTime();
            rate = newRate;
        }

        @Override
        public synchronized Instant instant() {
            return base.plusNanos((long) ((System.nanoTime() - baseNanos) * rate));
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("UTC only");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        dashboard.close();
        controller.close();
        FxToolkit.cleanupStages();
    }

    private static void waitLoaded(
            javafx.beans.property.ObjectProperty<DashboardModel.HistoryStatus> status, String contains)
            throws Exception {
        waitFx(30, () -> !status.get().loading() && status.get().text().contains(contains));
    }

    private static double minX(XYChart.Series<Number, Number> series) {
        return series.getData().stream()
                .mapToDouble(d -> d.getXValue().doubleValue())
                .min()
                .orElse(Double.NaN);
    }

    @Test
    @Order(1)
    void onConnectTheOverviewShowsTheHistoryOfTheRange() throws Exception {
        waitLoaded(model.hostHistory(), "recorded samples");
        String text = fx(() -> model.hostHistory().get().text());
        assertTrue(!text.contains(" 0 added"), "history was merged: " + text);
        double oldest = fx(() -> model.host().time(0));
        assertTrue(
                text.contains(" recorded samples from "
                        + Timestamps.utc(Instant.ofEpochMilli(Math.round(oldest * 1000))) + ", "),
                "names the first recorded sample, where the charts start: " + text);
        double latestAtLoad =
                fx(() -> model.latestHost().get().orElseThrow().sampledAt().toEpochMilli() / 1000.0);
        assertTrue(
                oldest < connectedSeconds - 60,
                "rows from before the connection: oldest " + oldest + ", connected " + connectedSeconds);
        assertTrue(oldest >= connectedSeconds - 16 * 60, "only the default 15 min were loaded: oldest " + oldest);
        double drawn = fx(() -> {
            window.select(0);
            window.overview().refresh();
            return minX(window.overview().reclaimedChart().series(DashboardModel.ZERO));
        });
        assertTrue(
                drawn < connectedSeconds,
                "the chart draws the history: first x " + drawn + ", connected " + connectedSeconds);
        assertTrue(latestAtLoad >= connectedSeconds);
        // Live samples keep arriving after the merge, appended after the history.
        int rows = fx(() -> model.host().size());
        waitFx(10, () -> model.host().size() > rows);
    }

    @Test
    @Order(2)
    void aLongerRangeReloadsAndReachesFurtherBack() throws Exception {
        @SuppressWarnings("unchecked")
        ComboBox<Duration> range =
                (ComboBox<Duration>) robot.lookup("#range-overview").query();
        fx(() -> {
            window.select(0);
            return null;
        });
        // From the keyboard: Alt+R focuses the range, Down chooses the next one (15 min -> 1 h).
        robot.press(KeyCode.ALT, KeyCode.R).release(KeyCode.R, KeyCode.ALT);
        waitFx(10, range::isFocused);
        robot.type(KeyCode.DOWN);
        waitFx(10, () -> Duration.ofHours(1).equals(model.range().get()));
        @SuppressWarnings("unchecked")
        ComboBox<Duration> detailRange =
                (ComboBox<Duration>) robot.lookup("#range-detail").query();
        assertEquals(Duration.ofHours(1), fx(detailRange::getValue), "the VM detail shows the same range");
        // The reload's range is an hour back from the latest sample: it reaches the controller's first recorded
        // samples.
        waitFx(30, () -> !model.hostHistory().get().loading() && model.host().time(0) < connectedSeconds - 20 * 60);
        double drawn = fx(() -> {
            window.overview().refresh();
            return minX(window.overview().reclaimedChart().series(DashboardModel.ZERO));
        });
        assertTrue(drawn < connectedSeconds - 20 * 60, "the chart draws the hour: first x " + drawn);
        assertTrue(fx(() -> ((Label) robot.lookup("#range-overview-status").query()).getText())
                .contains("recorded samples"));

        // The policy's decisions recorded in the hour before the connection are listed on the overview (the hour
        // ends at the latest sample at load time, at or after the connection: two minutes' margin at its start).
        JsonNode decisions =
                dashboard.client().decisions(EVER_FROM, EVER_TO).get().path("decisions");
        List<String> expected = new ArrayList<>();
        for (JsonNode d : decisions) {
            double at = Instant.parse(d.path("at").asText()).toEpochMilli() / 1000.0;
            if (at > connectedSeconds - 3600 + 120 && at < connectedSeconds) {
                expected.add(d.path("at").asText().replace('T', ' ').replaceAll("\\.\\d+Z$", "Z") + "  "
                        + d.path("mode").asText() + "  " + d.path("result").asText() + ": ");
            }
        }
        assertTrue(!expected.isEmpty(), "the controller decided before the dashboard connected: " + decisions);
        @SuppressWarnings("unchecked")
        javafx.scene.control.ListView<String> list = (javafx.scene.control.ListView<String>)
                robot.lookup("#overview-decisions").query();
        List<String> listed = fx(() -> List.copyOf(list.getItems()));
        for (String line : expected) {
            assertTrue(listed.stream().anyMatch(l -> l.startsWith(line)), line + " listed in " + listed);
        }
    }

    @Test
    @Order(3)
    void theVmDetailLoadsThatVmsHistory() throws Exception {
        VmRow row = fx(() -> model.rows().get(0));
        String name = row.vm().name();
        fx(() -> {
            window.select(5);
            window.detail().show(name);
            return null;
        });
        waitLoaded(model.vmHistory(), "of " + name);
        SeriesTable vm = fx(() -> model.vmTable(row.vm().uuid()));
        double oldest = fx(() -> vm.time(0));
        assertTrue(oldest < connectedSeconds - 60, name + "'s rows from before the connection: oldest " + oldest);
        JsonNode recorded = dashboard
                .client()
                .history(EVER_FROM, EVER_TO, Optional.of(name))
                .get();
        assertEquals(name, recorded.path("vm").asText());
        assertTrue(
                fx(() -> vm.size()) >= 20,
                "its history (" + recorded.path("points").size() + " recorded) is in its series");
    }

    @Test
    @Order(4)
    void aFailedLoadShowsTheErrorAndKeepsTheLiveSamples() throws Exception {
        controller.close();
        int rows = fx(() -> model.host().size());
        @SuppressWarnings("unchecked")
        ComboBox<Duration> range =
                (ComboBox<Duration>) robot.lookup("#range-overview").query();
        fx(() -> {
            window.select(0);
            range.setValue(Duration.ofHours(6));
            return null;
        });
        waitFx(30, () -> model.hostHistory().get().failed());
        Label status = (Label) robot.lookup("#range-overview-status").query();
        String text = fx(status::getText);
        assertTrue(
                text.startsWith("cannot load the history from ") && text.contains("showing the live samples only"),
                text);
        assertTrue(fx(() -> status.getStyleClass().contains("error")), "in the error style");
        assertEquals(rows, fx(() -> model.host().size()), "the live samples stay");
    }
}
