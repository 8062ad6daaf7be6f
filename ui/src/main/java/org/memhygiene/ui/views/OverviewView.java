package org.memhygiene.ui.views;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.TitledPane;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.RowConstraints;
import javafx.scene.layout.VBox;
import org.memhygiene.core.units.Count;
import org.memhygiene.ui.charts.TimeChart;
import org.memhygiene.ui.charts.TimeChart.Line;
import org.memhygiene.ui.charts.TimeChart.Unit;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.SeriesTable;

/** Host overview: reclaimed memory stacked by source, the host's free memory, ksmd's scan rate and CPU. */
public final class OverviewView implements DashboardView {
    private final DashboardModel model;
    private final TimeChart reclaimed = TimeChart.stacked(
            "Memory reclaimed, by source",
            "reclaimed",
            Unit.BYTES,
            List.of(
                    new Line("KSM sharing (non-zero pages)", DashboardModel.SHARING),
                    new Line("zero pages", DashboardModel.ZERO),
                    new Line("given back (free page reporting, balloon)", DashboardModel.FPR)));
    private final TimeChart free = TimeChart.lines(
            "Host free memory",
            "memory",
            Unit.BYTES,
            List.of(new Line("MemFree", DashboardModel.FREE), new Line("MemAvailable", DashboardModel.AVAILABLE)));
    private final TimeChart scan = TimeChart.lines(
            "ksmd scan rate",
            "pages scanned per second",
            Unit.AS_IS,
            List.of(new Line("pages_scanned rate", DashboardModel.SCAN_RATE)));
    private final TimeChart cpu = TimeChart.lines(
            "ksmd CPU", "CPU (% of one core)", Unit.AS_IS, List.of(new Line("ksmd", DashboardModel.KSMD_CPU)));
    private final Label summary = new Label("waiting for the first sample…");
    private final RangeSelector range;
    private final VBox root;

    public OverviewView(DashboardModel model) {
        this.model = model;
        this.range = new RangeSelector(model, model.hostHistory(), "range-overview");
        GridPane grid = new GridPane();
        grid.setHgap(8);
        grid.setVgap(8);
        grid.add(reclaimed.chart(), 0, 0);
        grid.add(free.chart(), 1, 0);
        grid.add(scan.chart(), 0, 1);
        grid.add(cpu.chart(), 1, 1);
        for (int i = 0; i < 2; i++) {
            ColumnConstraints c = new ColumnConstraints();
            c.setPercentWidth(50);
            grid.getColumnConstraints().add(c);
            RowConstraints r = new RowConstraints();
            r.setPercentHeight(50);
            grid.getRowConstraints().add(r);
        }
        summary.getStyleClass().add("summary");
        summary.setId("overview-summary");
        ListView<String> decisionList = new ListView<>(model.decisions());
        decisionList.setId("overview-decisions");
        decisionList.setPlaceholder(new Label("no policy decisions recorded in this range"));
        decisionList.setPrefHeight(120);
        TitledPane decisions = new TitledPane("", decisionList);
        decisions
                .textProperty()
                .bind(javafx.beans.binding.Bindings.size(model.decisions())
                        .asString("Policy decisions in the range (%d, from the history)"));
        decisions.setExpanded(false);
        decisions.setId("overview-decisions-pane");
        root = new VBox(8, summary, range.node(), decisions, grid);
        root.setPadding(new Insets(8));
        VBox.setVgrow(grid, Priority.ALWAYS);
        reclaimed.chart().setId("chart-reclaimed");
    }

    @Override
    public String title() {
        return "Host overview";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        SeriesTable host = model.host();
        double from = host.size() == 0
                ? 0
                : host.time(host.size() - 1) - model.range().get().toSeconds();
        reclaimed.update(host, from);
        free.update(host, from);
        scan.update(host, from);
        cpu.update(host, from);
        if (host.size() > 0) {
            double total = host.last(host.column(DashboardModel.SHARING))
                    + host.last(host.column(DashboardModel.ZERO))
                    + host.last(host.column(DashboardModel.FPR));
            double avail = host.last(host.column(DashboardModel.AVAILABLE));
            summary.setText("Reclaimed now: " + Units.bytes(Math.round(total)) + " (" + howMeasured()
                    + ")   ·   host MemAvailable: " + (Double.isNaN(avail) ? "–" : Units.bytes(Math.round(avail)))
                    + "   ·   " + Count.of(model.rows().size(), "VM"));
        }
    }

    /** How the VMs' figures were measured: "pagemap_scan: 3 VMs, KSM-accounted (ksm_stat): 1 VM". */
    private String howMeasured() {
        Map<String, Integer> methods = new TreeMap<>();
        model.rows().forEach(r -> methods.merge(r.reclaimedMeasuredBy(), 1, Integer::sum));
        return methods.entrySet().stream()
                .map(e -> e.getKey() + ": " + Count.of(e.getValue(), "VM"))
                .collect(Collectors.joining(", "));
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of(reclaimed.chart(), free.chart(), scan.chart(), cpu.chart());
    }

    public TimeChart reclaimedChart() {
        return reclaimed;
    }
}
