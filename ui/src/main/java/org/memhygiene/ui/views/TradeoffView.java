package org.memhygiene.ui.views;

import java.util.List;
import java.util.function.Consumer;
import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import org.memhygiene.ui.api.ControllerClient;
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
    private final Label probeStatus = new Label();
    private final VBox root;

    public TradeoffView(DashboardModel model, ControllerClient client, Consumer<VmRow> openVm) {
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
                + " exposing guests to deduplication side channels. A filled point's posture was measured by a"
                + " deduplication probe (when: its tooltip); a hollow one's is assumed from its configuration."
                + " The frontier is the best VMs of the simulator's frontier policies, on the same axes.");
        hint.setWrapText(true);
        Button probe = new Button("Probe now…");
        probe.setId("probe-now");
        probeStatus.setId("probe-status");
        probe.setOnAction(e -> probe(client));
        Region gap = new Region();
        HBox.setHgrow(gap, Priority.ALWAYS);
        root = new VBox(6, new HBox(8, progress, status, gap, probeStatus, probe), chart, hint);
        root.setPadding(new Insets(8));
        VBox.setVgrow(chart, Priority.ALWAYS);
        model.frontier()
                .addListener((javafx.collections.ListChangeListener<Object>) c -> chart.setFrontier(model.frontier()));
    }

    /**
     * Measures instead of assuming: after a confirmation, starts a deduplication probe on the controller; each VM's
     * point turns measured once the probe is done and the next sample carries it.
     */
    private void probe(ControllerClient client) {
        if (!Confirmation.ask(
                root,
                "Probe cross-VM deduplication now?",
                "POST " + client.base() + "/api/v1/probes/dedup\n\nEvery running VM's agent plants 256 canary pages"
                        + " (1 MiB, locked) until ksmd has scanned 3 times with KSM as it is (minutes), then times its"
                        + " writes; the canaries are released afterwards (docs/POSTURE.md, \"The deduplication"
                        + " canary\").")) {
            return;
        }
        probeStatus.setText("starting a probe…");
        client.probeDedup()
                .whenComplete((answer, failure) -> Platform.runLater(() -> probeStatus.setText(
                        failure != null
                                ? "probe refused: " + ControlsView.message(failure)
                                : "probe " + answer.path("status").asText("?")
                                        + ": the points turn filled when it is done")));
    }

    /** What the last "Probe now" said. */
    public Label probeStatus() {
        return probeStatus;
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
