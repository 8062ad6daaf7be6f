package org.memhygiene.ui.views;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.collections.ListChangeListener;
import javafx.collections.transformation.SortedList;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Label;
import javafx.scene.control.TableCell;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.VmRow;

/** Every VM in a sortable table; Enter or a double click opens it. Sorting and selection survive updates. */
public final class VmsView implements DashboardView {
    private static final double MEASURED_BY_MIN_WIDTH_PX = 250;

    private final TableView<VmRow> table = new TableView<>();
    private final VBox root;

    public VmsView(DashboardModel model, Consumer<VmRow> openVm) {
        table.setId("vms-table");
        table.getColumns().add(text("Name", r -> r.vm().name()));
        table.getColumns().add(bytes("Memory", r -> r.vm().memoryBytes()));
        table.getColumns().add(bytes("Reclaimed", r -> r.reclaimed().totalBytes()));
        TableColumn<VmRow, String> measuredBy = text("Measured by", VmRow::reclaimedMeasuredBy);
        measuredBy.setId("vms-measured-by");
        // Wide enough for the longest method, KSM_ACCOUNTED + BALLOON_ESTIMATE (a minimum: the table fits its
        // columns to its width and would make this one as narrow as the others).
        measuredBy.setMinWidth(MEASURED_BY_MIN_WIDTH_PX);
        table.getColumns().add(measuredBy);
        table.getColumns()
                .add(number(
                        "Merged pages",
                        r -> r.vm().mergedPages().isPresent()
                                ? r.vm().mergedPages().getAsLong()
                                : null));
        table.getColumns()
                .add(number(
                        "Zero pages",
                        r -> r.vm().zeroPages().isPresent() ? r.vm().zeroPages().getAsLong() : null));
        table.getColumns().add(text("Agent", r -> r.vm().agentStatus()));
        table.getColumns()
                .add(number(
                        "Posture score",
                        r -> r.vm().postureScore().isPresent()
                                ? (long) r.vm().postureScore().getAsInt()
                                : null));
        table.getColumns().add(number("Findings", r -> (long) r.vm().findings().size()));
        table.getColumns().add(text("Posture level", r -> r.vm().postureLevel()));
        table.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY);
        table.setPlaceholder(new Label("no VMs yet"));
        SortedList<VmRow> sorted = new SortedList<>(model.rows());
        sorted.comparatorProperty().bind(table.comparatorProperty());
        table.setItems(sorted);
        model.rows().addListener((ListChangeListener<VmRow>) change -> {
            // setAll replaces every row: select the same VM again.
            VmRow selected = table.getSelectionModel().getSelectedItem();
            if (selected != null) {
                sorted.stream()
                        .filter(r -> r.vm().uuid().equals(selected.vm().uuid()))
                        .findFirst()
                        .ifPresent(r -> table.getSelectionModel().select(r));
            }
        });
        table.setOnMouseClicked(e -> {
            if (e.getClickCount() == 2 && table.getSelectionModel().getSelectedItem() != null) {
                openVm.accept(table.getSelectionModel().getSelectedItem());
            }
        });
        table.setOnKeyPressed(e -> {
            if (e.getCode() == KeyCode.ENTER && table.getSelectionModel().getSelectedItem() != null) {
                openVm.accept(table.getSelectionModel().getSelectedItem());
            }
        });
        root = new VBox(
                6,
                new Label("Click a column to sort; Enter or a double click opens the VM. Merged and zero pages are"
                        + " each QEMU process's ksm_stat (ksm_merging_pages, ksm_zero_pages)."),
                table);
        root.setPadding(new Insets(8));
        VBox.setVgrow(table, Priority.ALWAYS);
    }

    private static TableColumn<VmRow, String> text(String title, Function<VmRow, String> value) {
        TableColumn<VmRow, String> column = new TableColumn<>(title);
        column.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(value.apply(c.getValue())));
        return column;
    }

    private static TableColumn<VmRow, Long> number(String title, Function<VmRow, Long> value) {
        TableColumn<VmRow, Long> column = new TableColumn<>(title);
        column.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(value.apply(c.getValue())));
        column.setComparator(Comparator.nullsFirst(Comparator.naturalOrder()));
        column.setCellFactory(c -> new TableCell<>() {
            @Override
            protected void updateItem(Long item, boolean empty) {
                super.updateItem(item, empty);
                setText(empty ? null : item == null ? "–" : String.format(Locale.ROOT, "%,d", item));
            }
        });
        column.setStyle("-fx-alignment: CENTER-RIGHT;");
        return column;
    }

    private static TableColumn<VmRow, Long> bytes(String title, Function<VmRow, Long> value) {
        TableColumn<VmRow, Long> column = new TableColumn<>(title);
        column.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(value.apply(c.getValue())));
        column.setCellFactory(c -> new TableCell<>() {
            @Override
            protected void updateItem(Long item, boolean empty) {
                super.updateItem(item, empty);
                setText(empty || item == null ? null : Units.bytes(item));
            }
        });
        column.setStyle("-fx-alignment: CENTER-RIGHT;");
        return column;
    }

    @Override
    public String title() {
        return "VMs";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        // the table follows the model's rows by itself
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of();
    }

    public TableView<VmRow> table() {
        return table;
    }
}
