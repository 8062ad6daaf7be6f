package org.memhygiene.ui.charts;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import javafx.collections.FXCollections;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.chart.Axis;
import javafx.scene.chart.LineChart;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Tooltip;
import javafx.scene.shape.Line;
import javafx.scene.shape.Rectangle;
import javafx.scene.text.Text;
import javafx.util.converter.NumberStringConverter;
import org.memhygiene.ui.model.FrontierPoint;
import org.memhygiene.ui.model.Timestamps;
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
    /** The style class of a VM point whose posture a deduplication probe measured (filled; assumed: a ring). */
    public static final String MEASURED = "vm-measured";
    /** Pixels between a VM's point's centre and the near end of its name. */
    private static final double NAME_GAP = 11;

    private final XYChart.Series<Number, Number> frontier =
            new XYChart.Series<>("policy frontier (simulator sweep)", FXCollections.observableArrayList());
    private final XYChart.Series<Number, Number> vms = new XYChart.Series<>("VMs", FXCollections.observableArrayList());
    private final Line vertical = new Line();
    private final Line horizontal = new Line();
    private final List<Text> labels = List.of(
            new Text("safe, little reclaimed"),
            new Text("safe and dense: the goal"),
            new Text("exposed, little reclaimed"),
            new Text("dense but exposed"));
    private final Consumer<VmRow> onOpen;
    private final Rectangle plotClip = new Rectangle();
    private final Node plotBackground = lookup(".chart-plot-background");
    private final Map<XYChart.Data<Number, Number>, Text> names = new HashMap<>();
    private final Map<String, XYChart.Data<Number, Number>> points = new HashMap<>();

    public TradeoffChart(Consumer<VmRow> onOpen) {
        super(
                axis("memory reclaimed (% of the VM's memory)", 0, 100, 10),
                axis("posture score (0 = exposed, 100 = hardened)", 0, 100, 10));
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
        vertical.getParent().getParent().setClip(plotClip);
        plotBackground.boundsInParentProperty().addListener((o, was, now) -> fitPlotClip());
    }

    /**
     * XYChart clips the plot to the box of its axes, which cuts a point on an edge in half, and a VM that
     * reclaims nothing sits on the left edge. The plot area (the parent of the group of plot children) gets
     * a clip of its own instead: that box, the plot background's, widened by the largest point's half size,
     * so every point shows and takes clicks whole. Fitted at each layout of the points, and when the box
     * changes (XYChart sizes it after laying out the points).
     */
    private void fitPlotClip() {
        double margin = getData().stream()
                .flatMap(series -> series.getData().stream())
                .map(XYChart.Data::getNode)
                .filter(Objects::nonNull)
                .mapToDouble(n -> Math.max(
                                n.getLayoutBounds().getWidth(),
                                n.getLayoutBounds().getHeight())
                        / 2)
                .max()
                .orElse(0);
        Bounds box = plotBackground.getBoundsInParent();
        plotClip.setX(box.getMinX() - margin);
        plotClip.setY(box.getMinY() - margin);
        plotClip.setWidth(box.getWidth() + 2 * margin);
        plotClip.setHeight(box.getHeight() + 2 * margin);
    }

    private static FixedAxis axis(String label, double from, double to, double tick) {
        return new FixedAxis(label, from, to, tick, new NumberStringConverter());
    }

    public void setFrontier(List<FrontierPoint> points) {
        frontier.getData()
                .setAll(points.stream()
                        .sorted(Comparator.comparingDouble(FrontierPoint::reclaimedPercent))
                        .map(p -> new XYChart.Data<Number, Number>(p.reclaimedPercent(), p.score(), p))
                        .toList());
        frontier.getData().forEach(d -> {
            if (d.getNode() != null) {
                d.getNode().getStyleClass().add("frontier-point");
                Tooltip.install(d.getNode(), new Tooltip(((FrontierPoint) d.getExtraValue()).label()));
            }
        });
    }

    /**
     * Places one point per VM that has a posture score. Points of VMs already shown move (their nodes stay,
     * so a click in progress lands); new VMs get a point, gone ones lose theirs.
     */
    public void setVms(List<VmRow> rows) {
        Set<String> present = new HashSet<>();
        for (VmRow row : rows) {
            if (row.vm().postureScore().isEmpty()) {
                continue;
            }
            present.add(row.vm().uuid());
            double x = Math.min(100, row.reclaimedPercent());
            int y = row.vm().postureScore().getAsInt();
            XYChart.Data<Number, Number> d = points.get(row.vm().uuid());
            if (d == null) {
                d = new XYChart.Data<>(x, y, row);
                points.put(row.vm().uuid(), d);
                vms.getData().add(d);
                decorate(d, row);
            } else {
                d.setXValue(x);
                d.setYValue(y);
                d.setExtraValue(row);
            }
            boolean measured = row.vm().postureMeasuredAt().isPresent();
            d.getNode().getStyleClass().remove(MEASURED);
            if (measured) {
                d.getNode().getStyleClass().add(MEASURED);
            }
            ((Tooltip) d.getNode().getProperties().get(Tooltip.class))
                    .setText(String.format(
                            Locale.ROOT,
                            "%s: %.1f %% of its memory reclaimed, posture score %d%n%s",
                            row.vm().name(),
                            row.reclaimedPercent(),
                            y,
                            row.vm()
                                    .postureMeasuredAt()
                                    .map(at -> "cross-VM merging measured by a deduplication probe at "
                                            + Timestamps.utc(at))
                                    .orElse("cross-VM merging assumed from its configuration (no recent probe)")));
        }
        points.entrySet().removeIf(e -> {
            if (present.contains(e.getKey())) {
                return false;
            }
            vms.getData().remove(e.getValue());
            getPlotChildren().remove(names.remove(e.getValue()));
            return true;
        });
    }

    private void decorate(XYChart.Data<Number, Number> d, VmRow row) {
        Text name = new Text(row.vm().name());
        name.getStyleClass().add("vm-label");
        name.setMouseTransparent(true);
        names.put(d, name);
        getPlotChildren().add(name);
        d.getNode().getStyleClass().add("vm-point");
        d.getNode().setId("vm-point-" + row.vm().name());
        d.getNode().setUserData(row.vm().name());
        Tooltip tip = new Tooltip();
        Tooltip.install(d.getNode(), tip);
        d.getNode().getProperties().put(Tooltip.class, tip);
        d.getNode().setOnMouseClicked(e -> onOpen.accept((VmRow) d.getExtraValue()));
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
        fitPlotClip();
        Axis<Number> x = getXAxis();
        Axis<Number> y = getYAxis();
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
        placeNames(x0, x1);
        place(labels.get(0), x0 + 6, y1 + 16);
        place(labels.get(1), x1 - 6 - labels.get(1).getLayoutBounds().getWidth(), y1 + 16);
        place(labels.get(2), x0 + 6, y0 - 8);
        place(labels.get(3), x1 - 6 - labels.get(3).getLayoutBounds().getWidth(), y0 - 8);
    }

    /**
     * Puts each VM's name beside its point where it covers no other VM's point and no name placed before it,
     * and stays within the plot from {@code left} to {@code right}: right of the point, else left of it, else
     * the same a row lower, and so on (VMs with nearly the same figures). Names go top to bottom, then left to
     * right. Where no row is free, the name goes right of its point.
     */
    private void placeNames(double left, double right) {
        Axis<Number> x = getXAxis();
        Axis<Number> y = getYAxis();
        List<Bounds> taken = new ArrayList<>();
        names.keySet().forEach(d -> taken.add(d.getNode().getBoundsInParent()));
        List<XYChart.Data<Number, Number>> ordered = names.keySet().stream()
                .sorted(Comparator.comparingDouble(
                                (XYChart.Data<Number, Number> d) -> y.getDisplayPosition(d.getYValue()))
                        .thenComparingDouble(d -> x.getDisplayPosition(d.getXValue())))
                .toList();
        for (XYChart.Data<Number, Number> d : ordered) {
            Text name = names.get(d);
            double width = name.getLayoutBounds().getWidth();
            double height = name.getLayoutBounds().getHeight();
            double pointX = x.getDisplayPosition(d.getXValue());
            double baseline = Math.max(y.getDisplayPosition(d.getYValue()) + 4, height);
            double[] sides = {pointX + NAME_GAP, pointX - NAME_GAP - width};
            boolean placed = false;
            for (int row = 0; row < taken.size() && !placed; row++) {
                for (int side = 0; side < sides.length && !placed; side++) {
                    place(name, sides[side], baseline + row * (height + 1));
                    Bounds box = name.getBoundsInParent();
                    placed = box.getMinX() >= left
                            && box.getMaxX() <= right
                            && taken.stream().noneMatch(box::intersects);
                }
            }
            if (!placed) {
                place(name, sides[0], baseline);
            }
            taken.add(name.getBoundsInParent());
        }
    }

    private static void place(Text text, double x, double y) {
        text.setX(x);
        text.setY(y);
    }
}
