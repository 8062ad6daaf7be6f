package org.memhygiene.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.memhygiene.ui.FxFixture.fx;
import static org.memhygiene.ui.FxFixture.waitFx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import javafx.event.EventHandler;
import javafx.geometry.Bounds;
import javafx.geometry.Orientation;
import javafx.geometry.Point2D;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.chart.ValueAxis;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Label;
import javafx.scene.control.Labeled;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.ScrollBar;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.Tooltip;
import javafx.scene.input.KeyCode;
import javafx.scene.input.MouseEvent;
import javafx.scene.text.Font;
import javafx.scene.text.Text;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.ui.charts.TradeoffChart;
import org.memhygiene.ui.export.ChartExport;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.Timestamps;
import org.memhygiene.ui.model.VmRow;
import org.memhygiene.ui.views.DashboardView;
import org.memhygiene.ui.views.DashboardWindow;
import org.testfx.api.FxRobot;
import org.testfx.matcher.control.LabeledMatchers;

/**
 * The dashboard driven as a user drives it (TestFX on Monocle, headless) against a real controller on
 * loopback over the simulator: what it draws comes from the simulator's run through the API, and
 * what its controls change is checked on the controller and its simulated host.
 */
class DashboardUiTest {
    private static FxFixture f;
    private final FxRobot robot = new FxRobot();

    @BeforeAll
    static void start() throws Exception {
        f = new FxFixture(true); // dry run: the controller's own policy leaves the knobs to the test
        waitFx(30, () -> f.model.host().size() >= 5 && !f.model.rows().isEmpty());
    }

    @AfterAll
    static void stop() throws Exception {
        f.close();
    }

    @Test
    void chartsFillFromTheSimulatorRun() throws Exception {
        waitFx(30, () -> f.model.host().last(f.model.host().column(DashboardModel.ZERO)) > 0);
        List<XYChart.Series<Number, Number>> reclaimed = fx(() -> {
            f.window.select(0);
            f.window.overview().refresh();
            return List.copyOf(f.window.overview().reclaimedChart().chart().getData());
        });
        assertEquals(
                Set.of("KSM sharing (non-zero pages)", "zero pages", "given back (free page reporting, balloon)"),
                reclaimed.stream().map(XYChart.Series::getName).collect(Collectors.toSet()));
        XYChart.Series<Number, Number> sharing =
                f.window.overview().reclaimedChart().series(DashboardModel.SHARING);
        XYChart.Series<Number, Number> zero =
                f.window.overview().reclaimedChart().series(DashboardModel.ZERO);
        int points = fx(() -> zero.getData().size());
        assertTrue(points >= 5, "zero-page layer has the samples: " + points);
        // The zero-page layer's top edge is above the sharing layer's by what zero pages reclaim.
        double zeroLayer = fx(() -> zero.getData().get(points - 1).getYValue().doubleValue()
                - sharing.getData().get(points - 1).getYValue().doubleValue());
        assertTrue(zeroLayer > 0, "the simulator's zero pages show: " + zeroLayer);

        int guestsRunning = (int) f.host.snapshot().vms().stream().count();
        assertEquals(guestsRunning, fx(() -> f.model.rows().size()), "a row per simulated VM");
        @SuppressWarnings("unchecked")
        TableView<Object> table = (TableView<Object>) robot.lookup("#vms-table").query();
        assertEquals(guestsRunning, fx(() -> table.getItems().size()));

        int scored = fx(() -> {
            f.window.select(1);
            f.window.tradeoff().refresh();
            return f.window.tradeoff().chart().vmSeries().getData().size();
        });
        assertEquals(guestsRunning, scored, "a trade-off point per VM (every VM has a posture score)");

        int findings = fx(() -> {
            f.window.select(3);
            f.window.views().get(3).refresh();
            return ((TableView<?>) robot.lookup("#findings-table").query())
                    .getItems()
                    .size();
        });
        assertTrue(findings > 0, "the demo's exposed guests have findings");
    }

    @Test
    void clickingATradeoffPointOpensThatVm() throws Exception {
        robot.press(KeyCode.CONTROL, KeyCode.DIGIT2).release(KeyCode.DIGIT2, KeyCode.CONTROL);
        waitFx(
                10,
                () -> f.window.current() == f.window.tradeoff()
                        && !f.window.tradeoff().chart().vmSeries().getData().isEmpty());
        // The points move as the simulation runs and pass over one another (a click then opens the VM on
        // top, as it would for an admin), and a VM that reclaimed nothing sits on the plot's left edge, across
        // the y axis: click a point inside the plot that stood still over the last sample, farthest from the
        // others, and check that the VM opened is the one whose point took the click.
        Map<Node, Point2D> before = fx(this::vmPointCentres);
        long revision = fx(() -> f.model.revision().get());
        waitFx(10, () -> f.model.revision().get() > revision);
        Node point = fx(() -> {
            Map<Node, Point2D> now = vmPointCentres();
            Node plot = f.window.tradeoff().chart().lookup(".chart-plot-background");
            Bounds inside = plot.localToScene(plot.getBoundsInLocal());
            return now.keySet().stream()
                    .filter(n -> inside.contains(n.localToScene(n.getBoundsInLocal())))
                    .max(Comparator.comparingDouble(n -> !now.get(n).equals(before.get(n))
                            ? -1
                            : now.entrySet().stream()
                                    .filter(other -> other.getKey() != n)
                                    .mapToDouble(other -> other.getValue().distance(now.get(n)))
                                    .min()
                                    .orElse(Double.MAX_VALUE)))
                    .orElseThrow(() -> new AssertionError(
                            "no VM's point lies wholly inside the plot " + inside + ": " + now.values()));
        });
        List<String> clicked = new CopyOnWriteArrayList<>();
        EventHandler<MouseEvent> record = e -> {
            if (e.getTarget() instanceof Node target && target.getStyleClass().contains("vm-point")) {
                clicked.add((String) target.getUserData());
            }
        };
        Node chart = f.window.tradeoff().chart();
        fx(() -> {
            chart.addEventFilter(MouseEvent.MOUSE_CLICKED, record);
            return null;
        });
        try {
            robot.clickOn(point);
            try {
                waitFx(10, () -> f.window.current() == f.window.detail());
            } catch (TimeoutException e) {
                fail("no VM opened within 10 s of the click on " + point.getUserData()
                        + "'s point; the click landed on " + (clicked.isEmpty() ? "no VM's point" : clicked));
            }
        } finally {
            fx(() -> {
                chart.removeEventFilter(MouseEvent.MOUSE_CLICKED, record);
                return null;
            });
        }
        assertEquals(1, clicked.size(), "the click landed on a VM's point: " + clicked);
        assertEquals(clicked.get(0), fx(() -> f.window.detail().shown().orElse("")));
    }

    @Test
    void aVmThatReclaimsNothingShowsItsWholePoint() throws Exception {
        // The demo's vault (<nosharepages/>) reclaims nothing: its point is centred on the plot's left edge.
        TradeoffChart chart = f.window.tradeoff().chart();
        waitFx(10, () -> {
            f.window.select(1);
            f.window.tradeoff().refresh();
            return chart.lookup("#vm-point-vault") != null;
        });
        double reclaimedPercent = fx(() -> chart.vmSeries().getData().stream()
                .filter(d -> d.getNode() == chart.lookup("#vm-point-vault"))
                .findFirst()
                .orElseThrow()
                .getXValue()
                .doubleValue());
        assertEquals(0.0, reclaimedPercent, "vault's reclaimed %, the x of its point");
        String clipped = fx(() -> {
            chart.applyCss();
            chart.layout();
            Node point = chart.lookup("#vm-point-vault");
            Bounds whole = point.localToScene(point.getBoundsInLocal());
            for (Node n = point.getParent(); n != null; n = n.getParent()) {
                if (n.getClip() != null) {
                    Bounds clip = n.localToScene(n.getClip().getBoundsInParent());
                    if (!clip.contains(whole)) {
                        return "vault's point " + whole + " is cut by the clip " + clip;
                    }
                }
            }
            return "";
        });
        assertEquals("", clipped);
    }

    @Test
    void theChartsOfAViewShareOneTimeAxis() throws Exception {
        // The scan-rate and CPU charts have no value in the recorded history nor at the first sample (a rate
        // needs two), which the reclaimed chart beside them draws; the longest range keeps them in view.
        waitFx(30, () -> f.model.host().size() >= 5);
        Duration shown = fx(() -> f.model.range().get());
        try {
            Map<String, List<Double>> overview = fx(() -> {
                f.model.range().set(DashboardModel.RANGES.get(DashboardModel.RANGES.size() - 1));
                f.window.select(0);
                f.window.overview().refresh();
                return timeSpans(f.window.overview());
            });
            assertTrue(
                    overview.values().stream().map(s -> s.get(2)).distinct().count() > 1,
                    "the charts' first points are at different times: " + overview);
            assertOneTimeAxis(overview);
            String vm = fx(() -> f.model.rows().get(0).vm().name());
            Map<String, List<Double>> detail = fx(() -> {
                f.window.detail().show(vm);
                f.window.detail().refresh();
                return timeSpans(f.window.detail());
            });
            assertOneTimeAxis(detail);
        } finally {
            fx(() -> {
                f.model.range().set(shown);
                return null;
            });
        }
    }

    @Test
    void everyTimeChartDrawsItsTimeLabelsInsideItself() throws Exception {
        // JavaFX centres a tick label on its tick, so the last one reaches past the plot; the charts on the
        // window's right edge had theirs cut ("20:10:0").
        waitFx(30, () -> f.model.host().size() >= 5);
        String vm = fx(() -> f.model.rows().get(0).vm().name());
        List<String> problems = fx(() -> {
            f.window.select(0);
            f.window.overview().refresh();
            List<String> found = timeLabelsOutside(f.window.overview());
            f.window.detail().show(vm);
            f.window.detail().refresh();
            f.window.select(5);
            found.addAll(timeLabelsOutside(f.window.detail()));
            return found;
        });
        assertEquals(List.of(), problems);
    }

    /** After a layout of {@code view}, what its charts' time axes do not show whole inside their charts. */
    private static List<String> timeLabelsOutside(DashboardView view) {
        Parent root = f.window.root();
        root.applyCss();
        root.layout();
        List<String> found = new ArrayList<>();
        for (XYChart<Number, Number> chart : view.charts()) {
            DrawnWhole.axisLabels(
                            chart.getXAxis(),
                            chart.localToScene(chart.getLayoutBounds()).getMaxX())
                    .forEach(problem -> found.add(chart.getTitle() + ": " + problem));
        }
        return found;
    }

    @Test
    void theVmDetailShowsItsWholeMeasuredLineAndFindings() throws Exception {
        // The VM with the longest finding: its findings and its guest RAM line are wider than the view.
        String vm = fx(() -> f.model.rows().stream()
                .max(Comparator.comparingInt(r -> r.vm().findings().stream()
                        .mapToInt(finding -> finding.title().length()
                                + finding.evidence().length()
                                + finding.remediation().length())
                        .max()
                        .orElse(0)))
                .orElseThrow()
                .vm()
                .name());
        waitFx(10, () -> {
            f.window.select(5);
            f.window.detail().show(vm);
            f.window.detail().refresh();
            return !((Label) robot.lookup("#detail-guest-memory").query())
                    .getText()
                    .isEmpty();
        });
        List<String> cut = fx(() -> {
            Node root = f.window.detail().node();
            root.applyCss();
            ((Parent) root).layout();
            List<String> shortened = new ArrayList<>();
            Label guestMemory = (Label) root.lookup("#detail-guest-memory");
            double widest = textWidth(guestMemory.getText(), guestMemory.getFont());
            if (!((Text) guestMemory.lookup(".text")).getText().equals(guestMemory.getText())) {
                shortened.add("the guest RAM line: " + ((Text) guestMemory.lookup(".text")).getText());
            }
            ListView<?> findings = (ListView<?>) root.lookup("#detail-findings");
            for (Node n : findings.lookupAll(".list-cell")) {
                ListCell<?> cell = (ListCell<?>) n;
                if (cell.getText() != null && !cell.getText().isEmpty()) {
                    widest = Math.max(widest, textWidth(cell.getText(), cell.getFont()));
                    String drawn = ((Text) cell.lookup(".text")).getText();
                    if (!drawn.equals(cell.getText())) {
                        shortened.add("a finding: " + drawn);
                    }
                }
            }
            for (Node n : findings.lookupAll(".scroll-bar")) {
                if (n instanceof ScrollBar bar && bar.getOrientation() == Orientation.HORIZONTAL && bar.isVisible()) {
                    shortened.add("the findings scroll sideways");
                }
            }
            if (widest <= findings.getWidth()) {
                shortened.add("nothing is wider than the view (" + widest + " px): the check checks nothing");
            }
            return shortened;
        });
        assertEquals(List.of(), cut);
    }

    @Test
    void theVmDetailLeavesNoEmptyLineWhereNoScrubResultIs() throws Exception {
        // Choosing another VM clears the scrub result; the range row then follows the guest RAM line directly.
        String other = fx(() -> f.model.rows().stream()
                .map(r -> r.vm().name())
                .filter(name -> !name.equals(f.window.detail().shown().orElse("")))
                .findFirst()
                .orElseThrow());
        double gap = fx(() -> {
            f.window.select(5);
            f.window.detail().show(other);
            f.window.detail().refresh();
            Node root = f.window.detail().node();
            root.applyCss();
            ((Parent) root).layout();
            Node guestMemory = root.lookup("#detail-guest-memory");
            Node rangeRow = root.lookup("#range-detail").getParent();
            return rangeRow.localToScene(rangeRow.getBoundsInLocal()).getMinY()
                    - guestMemory.localToScene(guestMemory.getBoundsInLocal()).getMaxY();
        });
        assertEquals("", fx(() -> ((Label) robot.lookup("#scrub-result").query()).getText()));
        assertTrue(
                gap <= 8 + 1, "the range row is " + gap + " px below the guest RAM line, not the view's 8 px spacing");
    }

    @Test
    void theVmsTableNamesHowEachVmsReclaimedMemoryWasMeasured() throws Exception {
        // A running guest of the simulated host is measured from its model (ControllerClientTest checks the
        // other methods); the demo stops one guest partway, which is then KSM-accounted.
        waitFx(
                10,
                () -> f.model.rows().stream().anyMatch(r -> r.vm().guestMemory().isPresent()));
        List<String> problems = fx(() -> {
            TableView<VmRow> table = laidOutVmsTable();
            TableColumn<VmRow, ?> column = leafColumn(table, "vms-measured-by");
            List<String> found = new ArrayList<>();
            for (VmRow row : table.getItems()) {
                String cell = String.valueOf(column.getCellData(row));
                String expected =
                        row.vm().guestMemory().isPresent() ? GuestMemory.Method.SIMULATOR.label() : VmRow.KSM_ACCOUNTED;
                if (!cell.equals(expected)) {
                    found.add(row.vm().name() + ": " + cell + ", not " + expected);
                }
            }
            // Every label the column can show fits it at the window's width (cells pad their text by a few px).
            Font font = ((Labeled) table.lookup(".table-cell")).getFont();
            List<String> labels = new ArrayList<>(List.of(VmRow.KSM_ACCOUNTED + VmRow.BALLOON_ESTIMATE));
            for (GuestMemory.Method m : GuestMemory.Method.values()) {
                if (m.pageStates()) {
                    labels.add(m.label());
                }
            }
            for (String label : labels) {
                if (textWidth(label, font) + 8 > column.getWidth()) {
                    found.add("too narrow: " + label + " in " + column.getWidth() + " px");
                }
            }
            return found;
        });
        assertEquals(List.of(), problems);
    }

    @Test
    void theVmsTableShowsEveryTitleAndCellWholeAtTheWindowsWidth() throws Exception {
        waitFx(10, () -> f.model.rows().size() > 1);
        List<String> cut = fx(() -> DrawnWhole.inTable(
                laidOutVmsTable(), title -> true, f.model.rows().size()));
        assertEquals(List.of(), cut);
    }

    @Test
    void theFindingsTableShowsSeverityAndVmWholeAndGivesTheRestToTheFindingsText() throws Exception {
        // The first scored samples bring the findings.
        waitFx(
                10,
                () -> f.model.rows().stream().anyMatch(r -> !r.vm().findings().isEmpty()));
        List<String> problems = fx(() -> {
            f.window.select(3);
            Parent root = (Parent) f.window.views().get(3).node();
            root.applyCss();
            root.layout();
            TableView<?> table = (TableView<?>) root.lookup("#findings-table");
            if (table.getItems().isEmpty()) {
                return List.of("no findings to look at");
            }
            List<String> found =
                    new ArrayList<>(DrawnWhole.inTable(table, t -> t.equals("Severity") || t.equals("VM"), 1));
            Map<String, Double> widths =
                    table.getColumns().stream().collect(Collectors.toMap(TableColumn::getText, TableColumn::getWidth));
            for (String narrow : List.of("Severity", "VM")) {
                if (widths.get(narrow) > widths.get("Finding") / 2) {
                    found.add(narrow + " as wide as the finding's text: " + widths);
                }
            }
            return found;
        });
        assertEquals(List.of(), problems);
    }

    @Test
    void theStatusLineShowsItsWholeTextWithTheLastSample() throws Exception {
        // The built-in source's description is wider than the 1280 px window; the last sample's time ends the line.
        waitFx(
                10,
                () -> ((Label) robot.lookup("#status-line").query()).getText().contains("last sample"));
        List<String> problems = fx(() -> {
            Parent root = f.window.root();
            root.applyCss();
            root.layout();
            Label status = (Label) root.lookup("#status-line");
            List<String> found = new ArrayList<>();
            DrawnWhole.cut(status).ifPresent(drawn -> found.add("drawn: " + drawn));
            double bottom = status.localToScene(status.getBoundsInLocal()).getMaxY();
            if (bottom > root.getScene().getHeight() + 0.5) {
                found.add("its bottom at " + bottom + " px, below the window's "
                        + root.getScene().getHeight());
            }
            double width = textWidth(status.getText(), status.getFont());
            if (width <= status.getWidth()) {
                found.add("the line (" + width + " px) fits the window: the check checks nothing");
            }
            return found;
        });
        assertEquals(List.of(), problems);
    }

    private static double textWidth(String text, Font font) {
        Text measured = new Text(text);
        measured.setFont(font);
        return measured.getLayoutBounds().getWidth();
    }

    /** Every chart of {@code spans} (from {@link #timeSpans}) has the same time axis bounds. */
    private static void assertOneTimeAxis(Map<String, List<Double>> spans) {
        assertEquals(
                1,
                spans.values().stream().map(s -> s.subList(0, 2)).distinct().count(),
                "charts: [time axis from, to, first point] " + spans);
    }

    /**
     * After a layout of {@code view}, each chart's title and, in seconds, its time axis's lower and upper
     * bounds and its earliest point.
     */
    private static Map<String, List<Double>> timeSpans(DashboardView view) {
        view.node().applyCss();
        ((Parent) view.node()).layout();
        Map<String, List<Double>> spans = new LinkedHashMap<>();
        for (XYChart<Number, Number> chart : view.charts()) {
            ValueAxis<Number> time = (ValueAxis<Number>) chart.getXAxis();
            double firstPoint = chart.getData().stream()
                    .flatMap(s -> s.getData().stream())
                    .mapToDouble(d -> d.getXValue().doubleValue())
                    .min()
                    .orElse(Double.NaN);
            spans.put(chart.getTitle(), List.of(time.getLowerBound(), time.getUpperBound(), firstPoint));
        }
        return spans;
    }

    @Test
    void probeNowMeasuresThePostureAndThePointsAndTheVmsTableSaySo() throws Exception {
        robot.press(KeyCode.CONTROL, KeyCode.DIGIT2).release(KeyCode.DIGIT2, KeyCode.CONTROL);
        waitFx(
                10,
                () -> f.window.current() == f.window.tradeoff()
                        && !f.window.tradeoff().chart().vmSeries().getData().isEmpty());
        assertTrue(
                fx(() -> f.window.tradeoff().chart().vmSeries().getData().stream()
                        .noneMatch(d -> d.getNode().getStyleClass().contains(TradeoffChart.MEASURED))),
                "before a probe every VM's cross-VM exposure is assumed: hollow points");
        Map<String, String> before = crossVmCells();
        assertFalse(before.isEmpty());
        assertEquals(Set.of(VmRow.CROSS_VM_ASSUMED), Set.copyOf(before.values()), "before a probe: " + before);
        robot.clickOn("#probe-now");
        robot.clickOn(dialogButton("Cancel"));
        assertEquals("", fx(() -> f.window.tradeoff().probeStatus().getText()), "cancelled: nothing asked");
        robot.clickOn("#probe-now");
        confirm();
        waitFx(10, () -> f.window.tradeoff().probeStatus().getText().startsWith("probe "));
        // The simulated host answers from its model at once; the next samples carry measured_at to the points.
        waitFx(
                30,
                () -> f.window.tradeoff().chart().vmSeries().getData().stream()
                        .anyMatch(d -> d.getNode().getStyleClass().contains(TradeoffChart.MEASURED)));
        String tip = fx(() -> f.window.tradeoff().chart().vmSeries().getData().stream()
                .filter(d -> d.getNode().getStyleClass().contains(TradeoffChart.MEASURED))
                .map(d -> ((Tooltip) d.getNode().getProperties().get(Tooltip.class)).getText())
                .findFirst()
                .orElseThrow());
        assertTrue(tip.contains("measured by a deduplication probe at"), tip);
        // The VMs table says the same of each VM, with the probe's time in UTC as everywhere in the dashboard.
        Map<String, String> expected = fx(() -> f.model.rows().stream()
                .collect(Collectors.toMap(
                        r -> r.vm().name(),
                        r -> r.vm().postureMeasuredAt()
                                .map(at -> "probe " + Timestamps.utc(at))
                                .orElse(VmRow.CROSS_VM_ASSUMED))));
        assertTrue(expected.values().stream().anyMatch(v -> v.startsWith("probe 20")), expected.toString());
        assertEquals(expected, crossVmCells());
        String at = expected.values().stream()
                .filter(v -> v.startsWith("probe "))
                .findFirst()
                .orElseThrow()
                .substring("probe ".length());
        assertTrue(at.endsWith("Z") && !at.contains("T"), at);
        assertTrue(tip.contains("measured by a deduplication probe at " + at), tip);
    }

    @Test
    void theVmsTableAndTheVmDetailWriteStatesAsTheCliDoes() throws Exception {
        // The API sends the constants' names (NO_CHANNEL, BALANCED, RUNNING); an admin reads "no channel",
        // "balanced" and "running" in `memhygiene vms` and the same here. Expected and shown come from the
        // same row: the simulated VMs start and stop while the test runs.
        Map<String, List<String>> cells = fx(() -> {
            TableView<VmRow> table = laidOutVmsTable();
            TableColumn<VmRow, ?> agent = leafColumnTitled(table, "Agent");
            TableColumn<VmRow, ?> level = leafColumnTitled(table, "Level");
            Map<String, List<String>> found = new HashMap<>();
            for (VmRow row : table.getItems()) {
                found.put(
                        row.vm().name(),
                        List.of(
                                String.valueOf(agent.getCellData(row)),
                                AgentStatus.valueOf(row.vm().agentStatus()).label(),
                                String.valueOf(level.getCellData(row)),
                                PostureLevel.valueOf(row.vm().postureLevel()).label()));
            }
            return found;
        });
        cells.forEach((vm, c) -> {
            assertEquals(c.get(1), c.get(0), vm + "'s agent, sent as " + c);
            assertEquals(c.get(3), c.get(2), vm + "'s posture level, sent as " + c);
        });
        assertTrue(cells.values().stream().anyMatch(c -> c.get(0).equals("no channel")), "the demo's " + cells);
        List<String> facts = fx(() -> {
            f.window.select(5);
            f.window.detail().show("db");
            f.window.detail().refresh();
            VmRow db = f.model.rows().stream()
                    .filter(r -> r.vm().name().equals("db"))
                    .findFirst()
                    .orElseThrow();
            return List.of(
                    ((Label) f.window.detail().node().lookup("#detail-facts")).getText(),
                    DomainState.valueOf(db.vm().state()).label(),
                    AgentStatus.valueOf(db.vm().agentStatus()).label());
        });
        assertTrue(facts.get(0).startsWith(facts.get(1) + " · memory "), facts.toString());
        assertTrue(facts.get(0).contains(" · agent " + facts.get(2) + " · posture "), facts.toString());
        assertTrue(facts.get(0).contains("/100 (balanced)"), "db's posture level: " + facts);
    }

    private static TableColumn<VmRow, ?> leafColumnTitled(TableView<VmRow> table, String title) {
        return table.getVisibleLeafColumns().stream()
                .filter(c -> title.equals(c.getText()))
                .findFirst()
                .orElseThrow();
    }

    /** The VMs view's table, shown and laid out (the FX thread only). */
    @SuppressWarnings("unchecked")
    private TableView<VmRow> laidOutVmsTable() {
        f.window.select(2);
        Parent root = (Parent) f.window.views().get(2).node();
        root.applyCss();
        root.layout();
        return (TableView<VmRow>) root.lookup("#vms-table");
    }

    private static TableColumn<VmRow, ?> leafColumn(TableView<VmRow> table, String id) {
        return table.getVisibleLeafColumns().stream()
                .filter(c -> id.equals(c.getId()))
                .findFirst()
                .orElseThrow();
    }

    /**
     * Each VM's cell of the VMs table's Cross-VM merging column, after checking that the column and the view's
     * hint show their whole text.
     */
    private Map<String, String> crossVmCells() throws Exception {
        return fx(() -> {
            int shown = f.window.views().indexOf(f.window.current());
            TableView<VmRow> table = laidOutVmsTable();
            TableColumn<VmRow, ?> column = leafColumn(table, "vms-cross-vm");
            Font font = ((Labeled) table.lookup(".table-cell")).getFont();
            for (String widest : List.of("probe 2026-12-28 20:08:08Z", VmRow.CROSS_VM_ASSUMED)) {
                assertTrue(
                        textWidth(widest, font) + 8 <= column.getWidth(),
                        "too narrow: " + widest + " in " + column.getWidth() + " px");
            }
            Label hint = (Label) table.getParent().lookup("#vms-hint");
            assertEquals(Optional.empty(), DrawnWhole.cut(hint), "the hint drawn whole");
            Map<String, String> cells = new HashMap<>();
            for (VmRow row : table.getItems()) {
                cells.put(row.vm().name(), String.valueOf(column.getCellData(row)));
            }
            f.window.select(shown);
            return cells;
        });
    }

    @Test
    void ksmControlsChangeTheSimulatedHostsKnobs() throws Exception {
        robot.press(KeyCode.CONTROL, KeyCode.DIGIT5).release(KeyCode.DIGIT5, KeyCode.CONTROL);
        waitFx(10, () -> f.window.current().title().equals("Controls"));
        replaceText("#ksm-pages-to-scan", "1234");
        replaceText("#ksm-sleep-millisecs", "37");
        robot.clickOn("#apply-ksm");
        confirm();
        waitFx(
                10,
                () -> ((Label) robot.lookup("#controls-result").query())
                        .getText()
                        .contains("pages_to_scan"));
        KsmStats knobs = f.host.snapshot().ksm().orElseThrow().stats();
        assertEquals(1234, knobs.pagesToScan().getAsLong());
        assertEquals(37, knobs.sleepMillisecs().getAsLong());

        // A value the controller refuses: the error shows, the knob stays.
        replaceText("#ksm-sleep-millisecs", "99999999999");
        robot.clickOn("#apply-ksm");
        confirm();
        waitFx(
                10,
                () -> !((Label) robot.lookup("#controls-error").query())
                        .getText()
                        .isEmpty());
        String error = fx(() -> ((Label) robot.lookup("#controls-error").query()).getText());
        assertTrue(error.contains("HTTP 400") && error.contains("sleep_millisecs"), error);
        assertEquals(
                37,
                f.host.snapshot().ksm().orElseThrow().stats().sleepMillisecs().getAsLong());

        // run and use_zero_pages: the choice box and the check box.
        replaceText("#ksm-sleep-millisecs", "37");
        robot.clickOn("#ksm-run");
        robot.clickOn(robot.from(robot.lookup(".context-menu").queryAll())
                .lookup(LabeledMatchers.hasText("0"))
                .queryAs(Node.class));
        robot.clickOn("#ksm-use-zero-pages");
        robot.clickOn("#apply-ksm");
        confirm();
        waitFx(
                10,
                () -> ((Label) robot.lookup("#controls-result").query())
                        .getText()
                        .contains("use_zero_pages"));
        KsmStats stopped = f.host.snapshot().ksm().orElseThrow().stats();
        assertEquals(0, stopped.run().getAsLong());
        assertEquals(0, stopped.useZeroPages().getAsLong());

        // Cancelled in the confirmation: nothing is sent.
        replaceText("#ksm-pages-to-scan", "555");
        robot.clickOn("#apply-ksm");
        robot.clickOn(dialogButton("Cancel"));
        Thread.sleep(500);
        assertEquals(
                1234,
                f.host.snapshot().ksm().orElseThrow().stats().pagesToScan().getAsLong());
    }

    @Test
    void policyControlSwitchesTheControllersMode() throws Exception {
        robot.press(KeyCode.CONTROL, KeyCode.DIGIT5).release(KeyCode.DIGIT5, KeyCode.CONTROL);
        waitFx(10, () -> f.window.current().title().equals("Controls"));
        @SuppressWarnings("unchecked")
        ChoiceBox<String> mode =
                (ChoiceBox<String>) robot.lookup("#policy-mode").query();
        robot.clickOn(mode);
        robot.clickOn(robot.from(robot.lookup(".context-menu").queryAll())
                .lookup(LabeledMatchers.hasText("baseline"))
                .queryAs(Node.class));
        robot.clickOn("#apply-policy");
        confirm();
        waitFx(10, () -> f.controller.daemon().policy().state().mode() == PolicyMode.BASELINE);
        waitFx(
                10,
                () -> ((Label) robot.lookup("#policy-current").query())
                        .getText()
                        .contains("baseline"));
    }

    @Test
    void scrubButtonScrubsTheGuestThroughTheController() throws Exception {
        fx(() -> {
            f.window.detail().show("web-1");
            f.window.select(5);
            return null;
        });
        long before = scrubsRun("web-1");
        robot.clickOn("#scrub");
        waitFx(
                30,
                () -> ((Label) robot.lookup("#scrub-result").query()).getText().startsWith("scrub of web-1:"));
        assertTrue(scrubsRun("web-1") > before, "the simulated guest's agent ran a scrub");
        assertFalse(fx(() -> ((Button) robot.lookup("#scrub").query()).isDisabled()));
    }

    @Test
    void themeSwitchesWithItsAccelerator() throws Exception {
        DashboardWindow.Theme before = fx(f.window::theme);
        robot.press(KeyCode.CONTROL, KeyCode.T).release(KeyCode.T, KeyCode.CONTROL);
        waitFx(5, () -> f.window.theme() != before);
        assertTrue(fx(() -> f.window.root().getStylesheets().get(0))
                .endsWith(f.window.theme().name().toLowerCase() + ".css"));
        robot.press(KeyCode.CONTROL, KeyCode.T).release(KeyCode.T, KeyCode.CONTROL);
        waitFx(5, () -> f.window.theme() == before);
    }

    @Test
    void exportsTheOverviewAsPngAndItsDataAsCsv(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("overview.png");
        Path csv = dir.resolve("overview.csv");
        fx(() -> {
            f.window.select(0);
            f.window.overview().refresh();
            ChartExport.png(f.window.overview().exportNode(), png);
            ChartExport.csv(f.window.overview().charts(), csv);
            return null;
        });
        assertTrue(SnapshotCheck.drawn(png), "the PNG has drawn content");
        List<String> lines = Files.readAllLines(csv);
        assertEquals("chart,series,x,y,x_unit,y_unit", lines.get(0));
        assertTrue(
                lines.stream().anyMatch(l -> l.startsWith("\"Memory reclaimed, by source\",zero pages,")),
                "zero-page rows: " + lines.subList(0, Math.min(5, lines.size())));
        assertTrue(lines.size() > 20, "every plotted point: " + lines.size());
    }

    /** Each VM point's centre in the scene (the FX thread only). */
    private Map<Node, Point2D> vmPointCentres() {
        Map<Node, Point2D> centres = new HashMap<>();
        for (XYChart.Data<Number, Number> d :
                f.window.tradeoff().chart().vmSeries().getData()) {
            Bounds b = d.getNode().localToScene(d.getNode().getBoundsInLocal());
            centres.put(d.getNode(), new Point2D(b.getCenterX(), b.getCenterY()));
        }
        return centres;
    }

    private long scrubsRun(String vm) {
        return f.host.snapshot().vms().stream()
                .filter(v -> v.domain().name().equals(vm))
                .findFirst()
                .orElseThrow()
                .agent()
                .stats()
                .map(s -> s.scrub().scrubsRun())
                .orElse(0L);
    }

    private void replaceText(String query, String text) {
        robot.clickOn(query);
        robot.press(KeyCode.CONTROL, KeyCode.A).release(KeyCode.A, KeyCode.CONTROL);
        robot.write(text);
    }

    private void confirm() {
        robot.clickOn(dialogButton("OK"));
    }

    private Button dialogButton(String text) {
        robot.sleep(200);
        return robot.lookup(".dialog-pane .button").queryAllAs(Button.class).stream()
                .filter(b -> b.getText().equals(text))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + text + " button in a dialog"));
    }
}
