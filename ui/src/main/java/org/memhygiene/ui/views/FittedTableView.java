package org.memhygiene.ui.views;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import javafx.beans.InvalidationListener;
import javafx.beans.Observable;
import javafx.collections.ObservableList;
import javafx.scene.control.Labeled;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.text.Font;
import javafx.scene.text.FontWeight;
import javafx.scene.text.Text;

/**
 * A table that fits its columns to its width (the constrained resize policy) without cutting what they show:
 * each column {@link #fit} is at least as wide as its title and the widest texts given for it, and those of
 * {@link Width#EXACTLY} no wider, so the rest of the width goes to the others. Widths are measured in the
 * titles' own font, once CSS has set it (modena.css draws them bold, at the theme's size), and again when the
 * font or the rows change. Written here because JavaFX 17 has no public way to size a column to its content (the
 * skin's resizeColumnToFitContent is internal, used only when a header's edge is double-clicked).
 */
public class FittedTableView<S> extends TableView<S> {
    /** How wide a fitted column is. */
    public enum Width {
        /** as wide as its title and widest texts, or wider where the table has room */
        AT_LEAST,
        /** as wide as its title and widest texts: the table's room goes to the other columns */
        EXACTLY
    }

    /** Room beside a title (the header's padding, and the sort arrow of a sorted column) and a cell's text. */
    private static final double TITLE_ROOM_PX = 24;

    private static final double CELL_ROOM_PX = 8;
    private static final String FIT = "memhygiene.fit";

    private record Fit(Width width, boolean itsCells, List<String> widest) {}

    private Font fittedTo;
    private boolean rowsChanged;

    public FittedTableView() {
        setColumnResizePolicy(CONSTRAINED_RESIZE_POLICY);
        InvalidationListener rows = o -> {
            rowsChanged = true;
            requestLayout();
        };
        getItems().addListener(rows);
        // An invalidation listener: a change listener compares the lists by their contents and misses a new,
        // equally empty one.
        itemsProperty().addListener(new InvalidationListener() {
            private ObservableList<S> listened = getItems();

            @Override
            public void invalidated(Observable o) {
                if (listened != null) {
                    listened.removeListener(rows);
                }
                listened = getItems();
                if (listened != null) {
                    listened.addListener(rows);
                }
                rows.invalidated(o);
            }
        });
    }

    /** Fits {@code column} to its title and {@code widest}, the widest texts its cells can show. */
    public static <S, T> TableColumn<S, T> fit(TableColumn<S, T> column, Width width, String... widest) {
        column.getProperties().put(FIT, new Fit(width, false, List.of(widest)));
        return column;
    }

    /** Fits {@code column} to its title, {@code widest} and the text of its cells now (names, say). */
    public static <S, T> TableColumn<S, T> fitCells(TableColumn<S, T> column, Width width, String... widest) {
        column.getProperties().put(FIT, new Fit(width, true, List.of(widest)));
        return column;
    }

    @Override
    protected void layoutChildren() {
        titleFont().filter(font -> rowsChanged || !font.equals(fittedTo)).ifPresent(font -> {
            fittedTo = font;
            rowsChanged = false;
            fitColumns(font);
        });
        super.layoutChildren();
    }

    private void fitColumns(Font titleFont) {
        Font cellFont = Font.font(titleFont.getFamily(), FontWeight.NORMAL, titleFont.getSize());
        for (TableColumn<S, ?> column : getVisibleLeafColumns()) {
            if (!(column.getProperties().get(FIT) instanceof Fit fit)) {
                continue;
            }
            Stream<String> texts = fit.widest().stream();
            if (fit.itsCells() && getItems() != null) {
                texts = Stream.concat(
                        texts,
                        getItems().stream()
                                .map(column::getCellObservableValue)
                                .map(value -> value == null ? "" : String.valueOf(value.getValue())));
            }
            double cells = texts.mapToDouble(t -> textWidth(t, cellFont)).max().orElse(0) + CELL_ROOM_PX;
            double width = Math.ceil(Math.max(textWidth(column.getText(), titleFont) + TITLE_ROOM_PX, cells));
            column.setMinWidth(width);
            if (fit.width() == Width.EXACTLY) {
                column.setMaxWidth(width);
            }
        }
    }

    /** The font of the column titles, once CSS has set it. */
    private Optional<Font> titleFont() {
        return lookupAll(".column-header").stream()
                .map(header -> header.lookup(".label"))
                .filter(label -> label instanceof Labeled l
                        && l.getText() != null
                        && !l.getText().isEmpty())
                .map(label -> ((Labeled) label).getFont())
                .findFirst();
    }

    private static double textWidth(String text, Font font) {
        Text measured = new Text(text);
        measured.setFont(font);
        return measured.getLayoutBounds().getWidth();
    }
}
