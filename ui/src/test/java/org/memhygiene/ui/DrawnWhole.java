package org.memhygiene.ui;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.chart.Axis;
import javafx.scene.control.Labeled;
import javafx.scene.control.TableCell;
import javafx.scene.control.TableView;
import javafx.scene.text.Text;

/** Whether text is drawn whole: JavaFX cuts a label's text that does not fit with an ellipsis (the FX thread only). */
public final class DrawnWhole {
    private DrawnWhole() {}

    public static boolean hasText(Labeled labeled) {
        return labeled.getText() != null && !labeled.getText().isEmpty();
    }

    /** What {@code labeled} draws of its text where that is not all of it, else empty. */
    public static Optional<String> cut(Labeled labeled) {
        String drawn = ((Text) labeled.lookup(".text")).getText();
        return drawn.equals(labeled.getText()) ? Optional.empty() : Optional.of(drawn);
    }

    /**
     * What a laid out {@code table} does not show whole, in the columns whose title {@code checked} accepts: a
     * title or a cell cut, a column past the table's right edge, a column without a title, and fewer cells with
     * text than the first {@code rows} rows have values.
     */
    public static List<String> inTable(TableView<?> table, Predicate<String> checked, int rows) {
        List<String> found = new ArrayList<>();
        int titles = 0;
        double tableRight = table.localToScene(table.getBoundsInLocal()).getMaxX();
        for (Node header : table.lookupAll(".column-header")) {
            if (header.lookup(".label") instanceof Labeled title && hasText(title) && checked.test(title.getText())) {
                titles++;
                cut(title).ifPresent(drawn -> found.add("title " + title.getText() + " drawn " + drawn));
                double right = header.localToScene(header.getBoundsInLocal()).getMaxX();
                if (right > tableRight + 0.5) {
                    found.add(title.getText() + " ends at " + right + " px, the table at " + tableRight);
                }
            }
        }
        long leaves = table.getVisibleLeafColumns().stream()
                .filter(c -> checked.test(c.getText()))
                .count();
        long columns = leaves
                + table.getColumns().stream()
                        .filter(c -> !c.getColumns().isEmpty() && checked.test(c.getText()))
                        .count();
        if (titles != columns) {
            found.add(titles + " titles for " + columns + " columns and groups");
        }
        // The cells the first rows should show with text: what the check checks.
        long expected = IntStream.range(0, Math.min(rows, table.getItems().size()))
                .mapToLong(row -> table.getVisibleLeafColumns().stream()
                        .filter(c -> checked.test(c.getText()))
                        .map(c -> c.getCellData(row))
                        .filter(v -> v != null && !v.toString().isEmpty())
                        .count())
                .sum();
        int cells = 0;
        for (Node node : table.lookupAll(".table-cell")) {
            if (node instanceof TableCell<?, ?> cell
                    && hasText(cell)
                    && cell.getTableColumn() != null
                    && checked.test(cell.getTableColumn().getText())) {
                cells++;
                cut(cell).ifPresent(drawn -> found.add("cell " + cell.getText() + " drawn " + drawn));
            }
        }
        if (cells < expected || expected == 0) {
            found.add(cells + " cells with text, of the " + expected + " of the first " + rows + " rows");
        }
        return found;
    }

    /**
     * What a laid out {@code axis} does not show whole: no label centred on its end (the upper bound: its right end,
     * or its top), or a label that ends right of {@code rightX} (in the scene).
     */
    public static List<String> axisLabels(Axis<Number> axis, double rightX) {
        List<String> found = new ArrayList<>();
        List<Text> labels = axis.getChildrenUnmodifiable().stream()
                .filter(n -> n instanceof Text && n.isVisible())
                .map(Text.class::cast)
                .toList();
        boolean vertical = axis.getSide().isVertical();
        double end = vertical ? 0 : axis.getWidth();
        if (labels.stream().noneMatch(label -> {
            Bounds box = label.getBoundsInParent();
            return Math.abs((vertical ? box.getCenterY() : box.getCenterX()) - end) <= 1;
        })) {
            found.add(axis.getLabel() + ": no label at its end, only "
                    + labels.stream().map(Text::getText).toList());
        }
        for (Text label : labels) {
            double right = label.localToScene(label.getBoundsInLocal()).getMaxX();
            if (right > rightX + 0.5) {
                found.add(axis.getLabel() + ": " + label.getText() + " ends at " + right + " px, right of " + rightX);
            }
        }
        return found;
    }
}
