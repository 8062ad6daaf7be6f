package org.memhygiene.ui.charts;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import javafx.scene.Scene;
import javafx.scene.layout.HBox;
import javafx.stage.Stage;
import org.memhygiene.ui.model.VmRow;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

/** A trade-off chart laid out at 400 sizes, for what a test finds wrong at each: the bugs here show at some sizes only. */
final class TradeoffSizes {
    private static final int SIZES = 400;

    private TradeoffSizes() {}

    /**
     * Lays out a {@link TradeoffChart} of {@code rows} at 400 sizes, from 500 × 350 px up, {@code widthStep} px
     * wider and 1 px taller each time, and returns what {@code check} (given the chart and its width) found at
     * each, prefixed by the size.
     */
    static List<String> problems(
            List<VmRow> rows, int widthStep, BiFunction<TradeoffChart, Integer, List<String>> check) throws Exception {
        FxToolkit.registerPrimaryStage();
        TradeoffChart chart =
                WaitForAsyncUtils.asyncFx(() -> new TradeoffChart(vm -> {})).get(10, TimeUnit.SECONDS);
        FxToolkit.setupStage((Stage stage) -> {
            stage.setScene(new Scene(new HBox(chart), 500 + SIZES * widthStep, 350 + SIZES));
            stage.show();
        });
        return WaitForAsyncUtils.asyncFx(() -> {
                    chart.setVms(rows);
                    List<String> found = new ArrayList<>();
                    for (int grow = 0; grow < SIZES; grow++) {
                        int width = 500 + widthStep * grow;
                        int height = 350 + grow;
                        chart.setMinSize(width, height);
                        chart.setMaxSize(width, height);
                        chart.getParent().applyCss();
                        chart.getParent().layout();
                        check.apply(chart, width)
                                .forEach(problem -> found.add(width + " x " + height + " px: " + problem));
                    }
                    return found;
                })
                .get(60, TimeUnit.SECONDS);
    }
}
