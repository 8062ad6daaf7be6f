package org.memhygiene.ui.export;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javafx.scene.Node;
import javafx.scene.SnapshotParameters;
import javafx.scene.chart.XYChart;
import javafx.scene.image.PixelReader;
import javafx.scene.image.WritableImage;
import javax.imageio.ImageIO;

/** File → Export: a view as PNG, its charts' data as CSV. FX thread only (snapshots need it). */
public final class ChartExport {
    private ChartExport() {}

    /** Renders {@code node} as it is laid out now and writes it to {@code file} as PNG. */
    public static void png(Node node, Path file) throws IOException {
        WritableImage image = node.snapshot(new SnapshotParameters(), null);
        writePng(image, file);
    }

    public static void writePng(WritableImage image, Path file) throws IOException {
        int width = (int) image.getWidth();
        int height = (int) image.getHeight();
        BufferedImage buffered = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        PixelReader pixels = image.getPixelReader();
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            pixels.getPixels(0, y, width, 1, javafx.scene.image.PixelFormat.getIntArgbInstance(), row, 0, width);
            buffered.setRGB(0, y, width, 1, row, 0, width);
        }
        if (!ImageIO.write(buffered, "png", file.toFile())) {
            throw new IOException("no PNG writer in this Java runtime");
        }
    }

    /**
     * Writes every series of {@code charts} as rows {@code chart,series,x,y}: the points the charts draw
     * (downsampled with LTTB for long series), x in the x axis's unit (epoch seconds on time axes),
     * y in the y axis's (the header names both).
     */
    public static void csv(List<XYChart<Number, Number>> charts, Path file) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("chart,series,x,y,x_unit,y_unit\n");
            for (XYChart<Number, Number> chart : charts) {
                String xUnit = chart.getXAxis().getLabel().startsWith("time")
                        ? "epoch seconds (UTC)"
                        : chart.getXAxis().getLabel();
                for (XYChart.Series<Number, Number> series : chart.getData()) {
                    for (XYChart.Data<Number, Number> point : series.getData()) {
                        out.write(quote(chart.getTitle()) + "," + quote(series.getName()) + "," + point.getXValue()
                                + "," + point.getYValue() + "," + quote(xUnit) + ","
                                + quote(chart.getYAxis().getLabel()) + "\n");
                    }
                }
            }
        }
    }

    static String quote(String text) {
        String t = text == null ? "" : text;
        return t.contains(",") || t.contains("\"") || t.contains("\n") ? "\"" + t.replace("\"", "\"\"") + "\"" : t;
    }
}
