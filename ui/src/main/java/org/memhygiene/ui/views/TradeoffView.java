package org.memhygiene.ui.views;

import java.util.List;
import java.util.function.Consumer;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import org.memhygiene.ui.charts.TradeoffChart;
import org.memhygiene.ui.frontier.FrontierTask;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.VmRow;

/** The trade-off: posture score against memory reclaimed, per VM, with the simulator's frontier behind. */
public final class TradeoffView implements DashboardView {
    private final DashboardModel model;
    private final TradeoffChart chart;
    private final Label status = new Label();
    private final ProgressIndicator progress = new ProgressIndicator();
    private final VBox root;

    public TradeoffView(DashboardModel model, Consumer<VmRow> openVm) {
        this.model = model;
        this.chart = new TradeoffChart(openVm);
        chart.setId("chart-tradeoff");
        progress.setMaxSize(18, 18);
        progress.visibleProperty()
                .bind(javafx.beans.binding.Bindings.createBooleanBinding(
                        () -> model.frontierStatus().get().startsWith(FrontierTask.COMPUTING), model.frontierStatus()));
        progress.managedProperty().bind(progress.visibleProperty());
        status.textProperty().bind(model.frontierStatus());
        status.setId("frontier-status");
        Label hint = new Label("Each point is a VM; click one to open it. Top right is the goal: memory back without"
                + " exposing guests to deduplication side channels.");
        hint.setWrapText(true);
        root = new VBox(6, new HBox(8, progress, status), chart, hint);
        root.setPadding(new Insets(8));
        VBox.setVgrow(chart, Priority.ALWAYS);
        model.frontier()
                .addListener((javafx.collections.ListChangeListener<Object>) c -> chart.setFrontier(model.frontier()));
    }

    @Override
    public String title() {
        return "Trade-off";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        chart.setVms(model.rows());
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of(chart);
    }

    public TradeoffChart chart() {
        return chart;
    }
}
