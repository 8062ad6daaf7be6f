package org.memhygiene.ui.charts;

import java.util.List;
import java.util.function.Consumer;
import javafx.collections.FXCollections;
import javafx.scene.chart.LineChart;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Tooltip;
import javafx.scene.shape.Line;
import javafx.scene.text.Text;
import org.memhygiene.ui.model.FrontierPoint;
import org.memhygiene.ui.model.VmRow;

/**
 * The trade-off: each VM a point at (memory reclaimed as % of its memory, posture score), the
 * simulator's policy frontier as a line behind them, and the four quadrants split at
 * {@link #SCORE_SPLIT} and {@link #RECLAIM_SPLIT_PERCENT} and labelled. Clicking a VM's point calls
 * {@code onOpen} with it.
 */
public final class TradeoffChart extends LineChart<Number, Number> {
    public static final double SCORE_SPLIT = 70;
    public static final double RECLAIM_SPLIT_PERCENT = 25;

    private final XYChart.Series<Number, Number> frontier = new XYChart.Series<>("policy frontier (simulator sweep)",
            FXCollections.observableArrayList());
    private final XYChart.Series<Number, Number> vms = new XYChart.Series<>("VMs", FXCollections.observableArrayList());
    private final Line vertical = new Line();
    private final Line horizontal = new Line();
    private final List<Text> labels = List.of(new Text("safe, little reclaimed"), new Text("safe and dense: the goal"),
            new Text("exposed, little reclaimed"), new Text("dense but exposed"));
    private final Consumer<VmRow> onOpen;

    public TradeoffChart(Consumer<VmRow> onOpen) {
        super(axis("memory reclaimed (% of the VM's memory)", 0, 100, 10), axis("posture score (0 = exposed, 100 = hardened)", 0, 100, 10));
        this.onOpen = onOpen;
        setAnimated(false);
        setTitle("Reclaimed memory against posture");
        getData().add(frontier);
        getData().add(vms);
        vertical.getStyleClass().add("quadrant-line");
        horizontal.getStyleClass().add("quadrant-line");
        getPlotChildren().addAll(0, List.of(vertical, horizontal));
        labels.forEach(l -> l.getStyleClass().add("quadrant-label"));
        getPlotChildren().addAll(labels);
        getStyleClass().add("tradeoff-chart");
    }

    private static NumberAxis axis(String label, double from, double to, double tick) {
        NumberAxis axis = new NumberAxis(label, from, to, tick);
        axis.setAutoRanging(false);
        return axis;
    }

    public void setFrontier(List<FrontierPoint> points) {
        frontier.getData().setAll(points.stream().sorted(java.util.Comparator.comparingDouble(FrontierPoint::reclaimedPercent))
                .map(p -> new XYChart.Data<Number, Number>(p.reclaimedPercent(), p.score(), p)).toList());
        frontier.getData().forEach(d -> {
            if (d.getNode() != null) {
                d.getNode().getStyleClass().add("frontier-point");
                Tooltip.install(d.getNode(), new Tooltip(((FrontierPoint) d.getExtraValue()).label()));
            }
        });
    }

    /** Places one point per VM that has a posture score. */
    public void setVms(List<VmRow> rows) {
        List<XYChart.Data<Number, Number>> points = rows.stream().filter(r -> r.vm().postureScore().isPresent())
                .map(r -> new XYChart.Data<Number, Number>(Math.min(100, r.reclaimedPercent()), r.vm().postureScore().getAsInt(), r))
                .toList();
        vms.getData().setAll(points);
        for (XYChart.Data<Number, Number> d : vms.getData()) {
            VmRow row = (VmRow) d.getExtraValue();
            d.getNode().getStyleClass().add("vm-point");
            d.getNode().setId("vm-point-" + row.vm().name());
            d.getNode().setAccessibleText(row.vm().name());
            Tooltip.install(d.getNode(), new Tooltip(String.format("%s: %.1f %% reclaimed, score %d", row.vm().name(),
                    row.reclaimedPercent(), row.vm().postureScore().getAsInt())));
            d.getNode().setOnMouseClicked(e -> onOpen.accept(row));
        }
    }

    public XYChart.Series<Number, Number> vmSeries() {
        return vms;
    }

    public XYChart.Series<Number, Number> frontierSeries() {
        return frontier;
    }

    @Override
    protected void layoutPlotChildren() {
        super.layoutPlotChildren();
        NumberAxis x = (NumberAxis) getXAxis();
        NumberAxis y = (NumberAxis) getYAxis();
        double x0 = x.getDisplayPosition(0);
        double x1 = x.getDisplayPosition(100);
        double y0 = y.getDisplayPosition(0);
        double y1 = y.getDisplayPosition(100);
        double xs = x.getDisplayPosition(RECLAIM_SPLIT_PERCENT);
        double ys = y.getDisplayPosition(SCORE_SPLIT);
        vertical.setStartX(xs);
        vertical.setEndX(xs);
        vertical.setStartY(y0);
        vertical.setEndY(y1);
        horizontal.setStartX(x0);
        horizontal.setEndX(x1);
        horizontal.setStartY(ys);
        horizontal.setEndY(ys);
        place(labels.get(0), x0 + 6, y1 + 16);
        place(labels.get(1), x1 - 6 - labels.get(1).getLayoutBounds().getWidth(), y1 + 16);
        place(labels.get(2), x0 + 6, y0 - 8);
        place(labels.get(3), x1 - 6 - labels.get(3).getLayoutBounds().getWidth(), y0 - 8);
    }

    private static void place(Text text, double x, double y) {
        text.setX(x);
        text.setY(y);
    }
}
