package org.memhygiene.ui.views;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
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
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.Timestamps;
import org.memhygiene.ui.model.VmRow;
import org.memhygiene.ui.views.FittedTableView.Width;

/** Every VM in a sortable table; Enter or a double click opens it. Sorting and selection survive updates. */
public final class VmsView implements DashboardView {
    /** The widest a size or a page count is drawn (Units.bytes stays under 1024 of its unit). */
    private static final String WIDEST_SIZE = "1023.9 MiB";

    private static final String WIDEST_PAGE_COUNT = "888,888,888";

    private final FittedTableView<VmRow> table = new FittedTableView<>();
    private final VBox root;

    public VmsView(DashboardModel model, Consumer<VmRow> openVm) {
        table.setId("vms-table");
        table.getColumns().add(FittedTableView.fitCells(text("Name", r -> r.vm().name()), Width.AT_LEAST));
        table.getColumns().add(bytes("Memory", r -> r.vm().memoryBytes()));
        table.getColumns().add(bytes("Reclaimed", r -> r.reclaimed().totalBytes()));
        List<String> methods = new ArrayList<>(List.of(VmRow.KSM_ACCOUNTED + VmRow.BALLOON_ESTIMATE));
        Stream.of(GuestMemory.Method.values())
                .filter(GuestMemory.Method::pageStates)
                .forEach(m -> methods.add(m.label()));
        TableColumn<VmRow, String> measuredBy =
                text("Measured by", VmRow::reclaimedMeasuredBy, methods.toArray(String[]::new));
        measuredBy.setId("vms-measured-by");
        table.getColumns().add(measuredBy);
        // Columns of one source under one title: shorter titles, so that every column fits a 1280 px window.
        TableColumn<VmRow, Long> merged = number(
                "Merged",
                r -> r.vm().mergedPages().isPresent() ? r.vm().mergedPages().getAsLong() : null,
                WIDEST_PAGE_COUNT);
        TableColumn<VmRow, Long> zero = number(
                "Zero", r -> r.vm().zeroPages().isPresent() ? r.vm().zeroPages().getAsLong() : null, WIDEST_PAGE_COUNT);
        table.getColumns().add(group("Pages (ksm_stat)", merged, zero));
        table.getColumns()
                .add(text(
                        "Agent",
                        r -> r.vm().agentLabel(),
                        Stream.of(AgentStatus.values()).map(AgentStatus::label).toArray(String[]::new)));
        TableColumn<VmRow, Long> score = number(
                "Score",
                r -> r.vm().postureScore().isPresent()
                        ? (long) r.vm().postureScore().getAsInt()
                        : null,
                "100");
        TableColumn<VmRow, Long> findings =
                number("Findings", r -> (long) r.vm().findings().size(), "99");
        TableColumn<VmRow, String> level = text(
                "Level",
                r -> r.vm().postureLevelLabel(),
                Stream.of(PostureLevel.values()).map(PostureLevel::label).toArray(String[]::new));
        TableColumn<VmRow, String> crossVm = text(
                "Cross-VM merging",
                VmRow::crossVmMergingFoundBy,
                // a time of wide digits
                "probe " + Timestamps.utc(Instant.parse("2026-12-28T20:08:08Z")),
                VmRow.CROSS_VM_ASSUMED);
        crossVm.setId("vms-cross-vm");
        table.getColumns().add(group("Posture", score, findings, level, crossVm));
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
        Label hint = new Label("Click a column to sort; Enter or a double click opens the VM. Merged and zero pages"
                + " are each QEMU process's ksm_stat (ksm_merging_pages, ksm_zero_pages). Cross-VM merging: whether"
                + " a deduplication probe measured it for the posture, or it is assumed from the VM's configuration.");
        hint.setId("vms-hint");
        // Longer than a window is wide: wrapped, and given its height before the table takes the rest.
        hint.setWrapText(true);
        hint.setMinHeight(Region.USE_PREF_SIZE);
        root = new VBox(6, hint, table);
        root.setPadding(new Insets(8));
        VBox.setVgrow(table, Priority.ALWAYS);
    }

    @SafeVarargs
    private static TableColumn<VmRow, ?> group(String title, TableColumn<VmRow, ?>... columns) {
        TableColumn<VmRow, ?> group = new TableColumn<>(title);
        group.getColumns().addAll(columns);
        return group;
    }

    private static TableColumn<VmRow, String> text(String title, Function<VmRow, String> value, String... widest) {
        TableColumn<VmRow, String> column = new TableColumn<>(title);
        column.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(value.apply(c.getValue())));
        return FittedTableView.fit(column, Width.AT_LEAST, widest);
    }

    private static TableColumn<VmRow, Long> number(String title, Function<VmRow, Long> value, String widest) {
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
        return FittedTableView.fit(column, Width.AT_LEAST, widest);
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
        return FittedTableView.fit(column, Width.AT_LEAST, WIDEST_SIZE);
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
