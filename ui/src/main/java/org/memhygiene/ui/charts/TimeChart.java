package org.memhygiene.ui.charts;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.scene.chart.LineChart;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.StackedAreaChart;
import javafx.scene.chart.XYChart;
import javafx.util.StringConverter;
import org.memhygiene.ui.downsample.Lttb;
import org.memhygiene.ui.model.SeriesTable;

/**
 * A chart of columns of a {@link SeriesTable} over time, downsampled with LTTB to {@link #MAX_POINTS}
 * per series whatever the table holds. Stacked charts downsample on the stack's total, so every layer
 * keeps the same times.
 */
public final class TimeChart {
    /** Points drawn per series: about one per two pixels of a full-width chart. */
    public static final int MAX_POINTS = 600;
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    /** One drawn series: its legend name, the table column, and the factor from the column's unit to the axis's. */
    public record Line(String name, String column, double scale) {
    }

    private final XYChart<Number, Number> chart;
    private final List<Line> lines;
    private final boolean stacked;

    private TimeChart(XYChart<Number, Number> chart, List<Line> lines, boolean stacked) {
        this.chart = chart;
        this.lines = List.copyOf(lines);
        this.stacked = stacked;
        chart.setAnimated(false);
        ObservableList<XYChart.Series<Number, Number>> series = FXCollections.observableArrayList();
        for (Line line : lines) {
            series.add(new XYChart.Series<>(line.name(), FXCollections.observableArrayList()));
        }
        chart.setData(series);
    }

    public static TimeChart lines(String title, String yLabel, List<Line> lines) {
        LineChart<Number, Number> chart = new LineChart<>(timeAxis(), valueAxis(yLabel));
        chart.setCreateSymbols(false);
        chart.setTitle(title);
        return new TimeChart(chart, lines, false);
    }

    public static TimeChart stacked(String title, String yLabel, List<Line> layers) {
        StackedAreaChart<Number, Number> chart = new StackedAreaChart<>(timeAxis(), valueAxis(yLabel));
        chart.setCreateSymbols(false);
        chart.setTitle(title);
        return new TimeChart(chart, layers, true);
    }

    public XYChart<Number, Number> chart() {
        return chart;
    }

    /** Redraws from {@code table} (the FX thread only). */
    public void update(SeriesTable table) {
        int n = table.size();
        double[] t = table.times();
        if (stacked) {
            double[] total = new double[n];
            List<double[]> columns = new ArrayList<>();
            for (Line line : lines) {
                double[] v = table.values(table.column(line.column()));
                columns.add(v);
                for (int i = 0; i < n; i++) {
                    total[i] += Double.isNaN(v[i]) ? 0 : v[i];
                }
            }
            int[] keep = Lttb.select(t, total, n, MAX_POINTS);
            for (int s = 0; s < lines.size(); s++) {
                fill(chart.getData().get(s), t, columns.get(s), keep, lines.get(s).scale(), true);
            }
        } else {
            for (int s = 0; s < lines.size(); s++) {
                double[] v = table.values(table.column(lines.get(s).column()));
                fill(chart.getData().get(s), t, v, Lttb.select(t, v, n, MAX_POINTS), lines.get(s).scale(), false);
            }
        }
    }

    /** Empties every series (a VM without samples yet). */
    public void clear() {
        chart.getData().forEach(s -> s.getData().clear());
    }

    private static void fill(XYChart.Series<Number, Number> series, double[] t, double[] v, int[] keep, double scale,
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

    static NumberAxis timeAxis() {
        NumberAxis axis = new NumberAxis();
        axis.setLabel("time (UTC)");
        axis.setForceZeroInRange(false);
        axis.setAutoRanging(true);
        axis.setTickLabelFormatter(new StringConverter<>() {
            @Override
            public String toString(Number seconds) {
                return CLOCK.format(Instant.ofEpochMilli(Math.round(seconds.doubleValue() * 1000)));
            }

            @Override
            public Number fromString(String text) {
                throw new UnsupportedOperationException("the time axis is not edited");
            }
        });
        return axis;
    }

    static NumberAxis valueAxis(String label) {
        NumberAxis axis = new NumberAxis();
        axis.setLabel(label);
        axis.setForceZeroInRange(true);
        return axis;
    }
}
