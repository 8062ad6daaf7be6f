package org.memhygiene.ui.charts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javafx.scene.Scene;
import javafx.scene.chart.ValueAxis;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Region;
import javafx.stage.Stage;
import javafx.util.converter.NumberStringConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.memhygiene.ui.DrawnWhole;
import org.memhygiene.ui.model.SeriesTable;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/** The time charts' and the trade-off chart's axes draw their ends whole at every size. */
class ChartAxesTest {
    /** 2026-12-07 20:08:10Z and 11 min 40 s later: the time axis runs from 20:08:00 to 20:20:00 in 2-minute steps. */
    private static final double FIRST_SECONDS = 1_796_674_090;

    private static final double LAST_SECONDS = FIRST_SECONDS + 700;

    @AfterEach
    void close() throws Exception {
        FxToolkit.cleanupStages();
    }

    @Test
    void aChartAtTheWindowsRightEdgeDrawsItsEndTimeWholeAtEveryWidth() throws Exception {
        // At about one width in twenty, JavaFX placed the end a rounding error past the axis and hid its label;
        // at every width, the end label reached half its width past the chart and the window cut it.
        FxToolkit.registerPrimaryStage();
        SeriesTable table = new SeriesTable(1e9, "v");
        table.add(FIRST_SECONDS, 1);
        table.add(LAST_SECONDS, 2);
        TimeChart time = WaitForAsyncUtils.asyncFx(
                        () -> TimeChart.lines("t", "v", TimeChart.Unit.AS_IS, List.of(new TimeChart.Line("v", "v"))))
                .get(10, TimeUnit.SECONDS);
        Region spacer = new Region();
        HBox row =
                WaitForAsyncUtils.asyncFx(() -> new HBox(spacer, time.chart())).get(10, TimeUnit.SECONDS);
        FxToolkit.setupStage((Stage stage) -> {
            stage.setScene(new Scene(row, 800, 300));
            stage.show();
        });
        List<String> problems = WaitForAsyncUtils.asyncFx(() -> {
                    time.update(table);
                    List<String> found = new ArrayList<>();
                    for (int chartWidth = 300; chartWidth < 700; chartWidth++) {
                        spacer.setMinWidth(800 - chartWidth);
                        time.chart().setMinWidth(chartWidth);
                        time.chart().setMaxWidth(chartWidth);
                        row.applyCss();
                        row.layout();
                        int width = chartWidth;
                        DrawnWhole.axisLabels(time.chart().getXAxis(), row.getWidth())
                                .forEach(problem -> found.add(width + " px: " + problem));
                    }
                    return found;
                })
                .get(30, TimeUnit.SECONDS);
        assertEquals(List.of(), problems);
    }

    @Test
    void aFirstSampleIsShownInTheMinuteAroundIt() throws Exception {
        FxToolkit.registerPrimaryStage();
        SeriesTable table = new SeriesTable(1e9, "v");
        table.add(FIRST_SECONDS, 1);
        double[] bounds = WaitForAsyncUtils.asyncFx(() -> {
                    TimeChart time =
                            TimeChart.lines("t", "v", TimeChart.Unit.AS_IS, List.of(new TimeChart.Line("v", "v")));
                    time.update(table);
                    ValueAxis<Number> axis = (ValueAxis<Number>) time.chart().getXAxis();
                    return new double[] {axis.getLowerBound(), axis.getUpperBound()};
                })
                .get(10, TimeUnit.SECONDS);
        assertArrayEquals(new double[] {FIRST_SECONDS - 10, FIRST_SECONDS + 50}, bounds, "20:08:00 to 20:09:00");
    }

    @Test
    void theTradeoffChartDrawsBothOfItsHundredsAtEverySize() throws Exception {
        // The same rounding hid the "100" of either axis at about one length in twenty.
        List<String> problems = TradeoffSizes.problems(List.of(), 1, (chart, width) -> {
            List<String> found = new ArrayList<>();
            for (var axis : List.of(chart.getXAxis(), chart.getYAxis())) {
                found.addAll(DrawnWhole.axisLabels(axis, width));
            }
            return found;
        });
        assertEquals(List.of(), problems);
    }

    @Test
    void anAxisWhoseTicksWouldNeverEndIsRefusedWithItsFigures() throws Exception {
        FxToolkit.registerPrimaryStage();
        String refused = WaitForAsyncUtils.asyncFx(() -> {
                    try {
                        new FixedAxis("t", 0, 60, 0, new NumberStringConverter());
                        return "accepted";
                    } catch (IllegalArgumentException e) {
                        return e.getMessage();
                    }
                })
                .get(10, TimeUnit.SECONDS);
        assertEquals(
                "axis from 0.0 to 60.0 by 0.0: expected lower < upper and a positive step, at most 1000 ticks",
                refused);
    }
}
