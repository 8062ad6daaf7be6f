package org.memhygiene.ui.views;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.transformation.SortedList;
import javafx.geometry.Insets;
import javafx.geometry.Orientation;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Label;
import javafx.scene.control.SplitPane;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableRow;
import javafx.scene.control.TableView;
import javafx.scene.control.TextArea;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.VmRow;

/** Every posture finding of every VM, worst first, with its evidence and remediation. */
public final class FindingsView implements DashboardView {
    /** One finding of one VM. */
    public record Item(String vm, Finding finding) {}

    private final DashboardModel model;
    private final ObservableList<Item> items = FXCollections.observableArrayList();
    private final FittedTableView<Item> table = new FittedTableView<>();
    private final TextArea detail = new TextArea();
    private final VBox root;
    private List<Item> shown = List.of();

    public FindingsView(DashboardModel model) {
        this.model = model;
        table.setId("findings-table");
        TableColumn<Item, Severity> severity = new TableColumn<>("Severity");
        severity.setCellValueFactory(
                c -> new ReadOnlyObjectWrapper<>(c.getValue().finding().severity()));
        severity.setSortType(TableColumn.SortType.DESCENDING);
        // Severity and VM as wide as they need: the finding, its evidence and remediation share the rest.
        FittedTableView.fit(
                severity,
                FittedTableView.Width.EXACTLY,
                Stream.of(Severity.values()).map(Severity::toString).toArray(String[]::new));
        TableColumn<Item, String> vm =
                FittedTableView.fitCells(column("VM", i -> i.vm()), FittedTableView.Width.EXACTLY);
        TableColumn<Item, String> title = column("Finding", i -> i.finding().title());
        TableColumn<Item, String> evidence = column("Evidence", i -> i.finding().evidence());
        TableColumn<Item, String> remediation =
                column("Remediation", i -> i.finding().remediation());
        table.getColumns().addAll(List.of(severity, vm, title, evidence, remediation));
        table.getSortOrder().add(severity);
        table.setPlaceholder(new Label("no findings: every guest reported a clean posture, or none reported yet"));
        table.setRowFactory(t -> new TableRow<>() {
            @Override
            protected void updateItem(Item item, boolean empty) {
                super.updateItem(item, empty);
                getStyleClass().removeIf(s -> s.startsWith("severity-"));
                if (!empty && item != null) {
                    getStyleClass()
                            .add("severity-" + item.finding().severity().name().toLowerCase(Locale.ROOT));
                }
            }
        });
        SortedList<Item> sorted = new SortedList<>(items);
        sorted.comparatorProperty().bind(table.comparatorProperty());
        table.setItems(sorted);
        detail.setEditable(false);
        detail.setWrapText(true);
        detail.setId("finding-detail");
        detail.setPromptText("Select a finding to read its evidence and remediation.");
        table.getSelectionModel()
                .selectedItemProperty()
                .addListener((o, was, item) -> detail.setText(
                        item == null
                                ? ""
                                : item.finding().severity() + "  "
                                        + item.finding().title() + "  ("
                                        + item.finding().id() + ", VM " + item.vm() + ")\n\n" + "Evidence: "
                                        + item.finding().evidence() + "\n\nRemediation: "
                                        + item.finding().remediation()));
        SplitPane split = new SplitPane(table, detail);
        split.setOrientation(Orientation.VERTICAL);
        split.setDividerPositions(0.72);
        root = new VBox(6, new Label("Posture findings of every VM (docs/POSTURE.md), worst first."), split);
        root.setPadding(new Insets(8));
        VBox.setVgrow(split, Priority.ALWAYS);
    }

    private static TableColumn<Item, String> column(String title, Function<Item, String> value) {
        TableColumn<Item, String> c = new TableColumn<>(title);
        c.setCellValueFactory(cell -> new ReadOnlyObjectWrapper<>(value.apply(cell.getValue())));
        return c;
    }

    @Override
    public String title() {
        return "Findings";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        List<Item> now = new ArrayList<>();
        for (VmRow row : model.rows()) {
            row.vm().findings().forEach(f -> now.add(new Item(row.vm().name(), f)));
        }
        now.sort(Comparator.comparing((Item i) -> i.finding().severity())
                .reversed()
                .thenComparing(Item::vm));
        if (!now.equals(shown)) {
            shown = now;
            Item selected = table.getSelectionModel().getSelectedItem();
            items.setAll(now);
            if (selected != null) { // the same finding of the same VM, though its evidence's figures moved
                now.stream()
                        .filter(i -> i.vm().equals(selected.vm())
                                && i.finding().id().equals(selected.finding().id()))
                        .findFirst()
                        .ifPresent(i -> table.getSelectionModel().select(i));
            }
        }
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of();
    }

    public TableView<Item> table() {
        return table;
    }
}
