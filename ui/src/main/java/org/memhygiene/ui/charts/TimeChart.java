package org.memhygiene.ui.charts;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.geometry.Insets;
import javafx.scene.chart.AreaChart;
import javafx.scene.chart.LineChart;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.ValueAxis;
import javafx.scene.chart.XYChart;
import javafx.scene.text.Text;
import javafx.util.StringConverter;
import org.memhygiene.ui.downsample.Lttb;
import org.memhygiene.ui.model.SeriesTable;

/**
 * A chart of columns of a {@link SeriesTable} over time, downsampled with LTTB to {@link #MAX_POINTS}
 * per series whatever the table holds. Stacked charts downsample on the stack's total, so every layer
 * keeps the same times, and are drawn as an AreaChart of running sums, top layer first (JavaFX's
 * StackedAreaChart interpolates every layer against every other on each layout: hundreds of
 * milliseconds per redraw at a few hundred points).
 */
public final class TimeChart {
    /** Points drawn per series: about one per pixel of a chart in the 2 x 2 overview. */
    public static final int MAX_POINTS = 400;

    /** One drawn series: its legend name and the table column. */
    public record Line(String name, String column) {}

    /** The unit of the columns: bytes are drawn in GiB, or MiB while everything is under 1 GiB. */
    public enum Unit {
        BYTES,
        AS_IS
    }

    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    /** Steps a time tick may take, in seconds: the clock's own, so ticks fall on round times. */
    private static final double[] TICK_STEPS_SECONDS = {
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400
    };

    private static final int MAX_TIME_TICKS = 8;
    private static final double SECONDS_PER_DAY = 86400;
    private static final double MINUTE_SECONDS = 60;

    private static final double MIB = 1024.0 * 1024;
    private static final double GIB = MIB * 1024;

    private final XYChart<Number, Number> chart;
    private final List<Line> lines;
    private final boolean stacked;
    private final String quantity;
    private final Unit unit;

    private TimeChart(XYChart<Number, Number> chart, String quantity, Unit unit, List<Line> lines, boolean stacked) {
        this.chart = chart;
        this.quantity = quantity;
        this.unit = unit;
        this.lines = List.copyOf(lines);
        this.stacked = stacked;
        chart.getYAxis().setLabel(unit == Unit.BYTES ? quantity + " (GiB)" : quantity);
        chart.setAnimated(false);
        ObservableList<XYChart.Series<Number, Number>> series = FXCollections.observableArrayList();
        for (Line line : lines) {
            series.add(new XYChart.Series<>(line.name(), FXCollections.observableArrayList()));
        }
        if (stacked) {
            FXCollections.reverse(series); // the running total first, so each lower layer is drawn over it
            chart.getStyleClass().add("stacked-chart");
        }
        chart.setData(series);
    }

    /**
     * @param quantity the y axis's label; for {@link Unit#BYTES} without the unit, which is added
     */
    public static TimeChart lines(String title, String quantity, Unit unit, List<Line> lines) {
        LineChart<Number, Number> chart = new LineChart<>(timeAxis(), valueAxis()) {
            @Override
            protected void layoutChildren() {
                keepRoomForTheLastTimeLabel(this);
                super.layoutChildren();
            }
        };
        chart.setCreateSymbols(false);
        chart.setTitle(title);
        return new TimeChart(chart, quantity, unit, lines, false);
    }

    public static TimeChart stacked(String title, String quantity, Unit unit, List<Line> layers) {
        AreaChart<Number, Number> chart = new AreaChart<>(timeAxis(), valueAxis()) {
            @Override
            protected void layoutChildren() {
                keepRoomForTheLastTimeLabel(this);
                super.layoutChildren();
            }
        };
        chart.setCreateSymbols(false);
        chart.setTitle(title);
        return new TimeChart(chart, quantity, unit, layers, true);
    }

    /**
     * Widens {@code chart}'s right padding to half its time axis's last label: JavaFX centres a tick label on its
     * tick, so that half lies right of the plot, and a chart at the window's right edge had it cut ("20:10:0").
     * Called in layout, after CSS has set the padding's other sides (modena's), which a value set here keeps.
     */
    private static void keepRoomForTheLastTimeLabel(XYChart<Number, Number> chart) {
        ValueAxis<Number> time = (ValueAxis<Number>) chart.getXAxis();
        Text last = new Text(time.getTickLabelFormatter().toString(time.getUpperBound()));
        last.setFont(time.getTickLabelFont());
        double half = Math.ceil(last.getLayoutBounds().getWidth() / 2);
        Insets padding = chart.getPadding();
        if (padding.getRight() < half) {
            chart.setPadding(new Insets(padding.getTop(), half, padding.getBottom(), padding.getLeft()));
        }
    }

    public XYChart<Number, Number> chart() {
        return chart;
    }

    /** Redraws from all of {@code table} (the FX thread only). */
    public void update(SeriesTable table) {
        update(table, Double.NEGATIVE_INFINITY);
    }

    /** Redraws the rows of {@code table} from {@code fromSeconds} on (the time range shown). */
    public void update(SeriesTable table, double fromSeconds) {
        int first = table.firstAtOrAfter(fromSeconds);
        int n = table.size() - first;
        double[] t = Arrays.copyOfRange(table.times(), first, table.size());
        // The time axis spans the rows shown rather than the points drawn, so the charts of one table share one
        // time axis: a rate has no value at the first sample nor in the recorded history (docs/DASHBOARD.md), and
        // an axis on its points would start there later than its neighbours'.
        spanTimeAxis(t);
        double scale = 1;
        if (unit == Unit.BYTES) {
            double max = 0;
            for (Line line : lines) {
                int c = table.column(line.column());
                for (int i = 0; i < n; i++) {
                    double v = table.value(c, first + i);
                    max = Double.isNaN(v) ? max : stacked ? max : Math.max(max, v);
                }
            }
            if (stacked) {
                for (int i = 0; i < n; i++) {
                    double sum = 0;
                    for (Line line : lines) {
                        double v = table.value(table.column(line.column()), first + i);
                        sum += Double.isNaN(v) ? 0 : v;
                    }
                    max = Math.max(max, sum);
                }
            }
            boolean gib = max >= GIB;
            scale = gib ? 1 / GIB : 1 / MIB;
            String label = quantity + (gib ? " (GiB)" : " (MiB)");
            if (!label.equals(chart.getYAxis().getLabel())) {
                chart.getYAxis().setLabel(label);
            }
        }
        if (stacked) {
            double[] total = new double[n];
            List<double[]> columns = new ArrayList<>();
            for (Line line : lines) {
                double[] v = Arrays.copyOfRange(table.values(table.column(line.column())), first, table.size());
                columns.add(v);
                for (int i = 0; i < n; i++) {
                    total[i] += Double.isNaN(v[i]) ? 0 : v[i];
                }
            }
            int[] keep = Lttb.select(t, total, n, MAX_POINTS);
            double[] runningSum = new double[n];
            for (int s = 0; s < lines.size(); s++) {
                double[] v = columns.get(s);
                for (int i : keep) {
                    runningSum[i] += Double.isNaN(v[i]) ? 0 : v[i];
                }
                fill(chart.getData().get(lines.size() - 1 - s), t, runningSum, keep, scale, true);
            }
        } else {
            for (int s = 0; s < lines.size(); s++) {
                double[] v = Arrays.copyOfRange(
                        table.values(table.column(lines.get(s).column())), first, table.size());
                fill(chart.getData().get(s), t, v, Lttb.select(t, v, n, MAX_POINTS), scale, false);
            }
        }
    }

    /** The drawn series of {@code column}: for a stacked chart, its layer's top edge (the running sum). */
    public XYChart.Series<Number, Number> series(String column) {
        for (int s = 0; s < lines.size(); s++) {
            if (lines.get(s).column().equals(column)) {
                return chart.getData().get(stacked ? lines.size() - 1 - s : s);
            }
        }
        throw new IllegalArgumentException("no series of column " + column);
    }

    /** Empties every series (a VM without samples yet). */
    public void clear() {
        chart.getData().forEach(s -> s.getData().clear());
    }

    /**
     * Spans the time axis from the round time at or before the first of the times {@code t} (ascending, in seconds)
     * to the one at or after the last, in at most {@link #MAX_TIME_TICKS} steps of the clock; one time gets the
     * minute around it, and no time leaves the axis as it was.
     */
    private void spanTimeAxis(double[] t) {
        if (t.length == 0) {
            return;
        }
        FixedAxis axis = (FixedAxis) chart.getXAxis();
        double first = t[0];
        double last = t[t.length - 1];
        if (last <= first) {
            double minute = Math.floor(first / MINUTE_SECONDS) * MINUTE_SECONDS;
            axis.span(minute, minute + MINUTE_SECONDS, MINUTE_SECONDS);
            return;
        }
        double step = Math.ceil((last - first) / MAX_TIME_TICKS / SECONDS_PER_DAY) * SECONDS_PER_DAY;
        for (double candidate : TICK_STEPS_SECONDS) {
            if ((last - first) / candidate <= MAX_TIME_TICKS) {
                step = candidate;
                break;
            }
        }
        axis.span(Math.floor(first / step) * step, Math.ceil(last / step) * step, step);
    }

    private static void fill(
            XYChart.Series<Number, Number> series,
            double[] t,
            double[] v,
            int[] keep,
            double scale,
            boolean nanAsZero) {
        List<XYChart.Data<Number, Number>> points = new ArrayList<>(keep.length);
        for (int i : keep) {
            double value = v[i];
            if (Double.isNaN(value)) {
                if (!nanAsZero) {
                    continue;
                }
                value = 0;
            }
            points.add(new XYChart.Data<>(t[i], value * scale));
        }
        series.getData().setAll(points);
    }

    private static FixedAxis timeAxis() {
        return new FixedAxis("time (UTC)", 0, MINUTE_SECONDS, MINUTE_SECONDS, new StringConverter<>() {
            @Override
            public String toString(Number seconds) {
                return CLOCK.format(Instant.ofEpochMilli(Math.round(seconds.doubleValue() * 1000)));
            }

            @Override
            public Number fromString(String text) {
                throw new UnsupportedOperationException("the time axis is not edited");
            }
        });
    }

    static NumberAxis valueAxis() {
        NumberAxis axis = new NumberAxis();
        axis.setForceZeroInRange(true);
        return axis;
    }
}
