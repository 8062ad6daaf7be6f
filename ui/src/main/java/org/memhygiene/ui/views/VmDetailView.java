package org.memhygiene.ui.views;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javafx.application.Platform;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import org.memhygiene.ui.HistoryLoader;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.api.GuestMemoryView;
import org.memhygiene.ui.charts.TimeChart;
import org.memhygiene.ui.charts.TimeChart.Line;
import org.memhygiene.ui.charts.TimeChart.Unit;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.VmRow;

/** One VM: what it reclaims over time, its KSM page counts, its posture findings, and a scrub button. */
public final class VmDetailView implements DashboardView {
    private final DashboardModel model;
    private final ControllerClient client;
    private final ComboBox<String> vm = new ComboBox<>();
    private final TimeChart reclaimed = TimeChart.stacked(
            "Reclaimed from this VM, by source",
            "reclaimed",
            Unit.BYTES,
            List.of(
                    new Line("KSM sharing (non-zero pages)", DashboardModel.SHARING),
                    new Line("zero pages", DashboardModel.ZERO),
                    new Line("given back (free page reporting, balloon)", DashboardModel.FPR)));
    private final TimeChart pages = TimeChart.lines(
            "KSM-accounted pages of its QEMU process (ksm_stat)",
            "pages",
            Unit.AS_IS,
            List.of(
                    new Line("ksm_merging_pages", DashboardModel.MERGED_PAGES),
                    new Line("ksm_zero_pages", DashboardModel.ZERO_PAGES)));
    private final ObservableList<String> findings = FXCollections.observableArrayList();
    private final Label facts = new Label("choose a VM");
    private final Label guestMemory = new Label();
    private final Button scrub = new Button("Scrub free memory now");
    private final ProgressIndicator scrubbing = new ProgressIndicator();
    private final Label scrubResult = new Label();
    private final RangeSelector range;
    private final HistoryLoader history;
    private final VBox root;

    public VmDetailView(DashboardModel model, ControllerClient client, HistoryLoader history) {
        this.model = model;
        this.client = client;
        this.history = history;
        this.range = new RangeSelector(model, model.vmHistory(), "range-detail");
        vm.setId("detail-vm");
        vm.setPromptText("VM");
        vm.valueProperty().addListener((o, was, now) -> {
            scrubResult.setText("");
            refresh();
            loadHistory();
        });
        scrub.setId("scrub");
        scrub.setOnAction(e -> scrub());
        scrubResult.setId("scrub-result");
        scrubResult.setWrapText(true);
        // Takes a line only while there is a scrub to report.
        scrubResult.managedProperty().bind(scrubResult.textProperty().isNotEmpty());
        scrubResult.visibleProperty().bind(scrubResult.managedProperty());
        scrubbing.setMaxSize(18, 18);
        scrubbing.setVisible(false);
        facts.setId("detail-facts");
        guestMemory.setId("detail-guest-memory");
        guestMemory.setWrapText(true);
        // A VBox gives a wrapping label one line when the charts below take the height: keep all its lines.
        guestMemory.setMinHeight(Region.USE_PREF_SIZE);
        ListView<String> list = new ListView<>(findings);
        list.setId("detail-findings");
        list.setCellFactory(v -> new WrappingCell());
        list.setPlaceholder(new Label("no posture findings"));
        list.setPrefHeight(140);
        GridPane charts = new GridPane();
        charts.setHgap(8);
        charts.add(reclaimed.chart(), 0, 0);
        charts.add(pages.chart(), 1, 0);
        for (int i = 0; i < 2; i++) {
            ColumnConstraints c = new ColumnConstraints();
            c.setPercentWidth(50);
            charts.getColumnConstraints().add(c);
        }
        reclaimed.chart().setId("chart-vm-reclaimed");
        root = new VBox(
                8,
                new HBox(8, new Label("VM"), vm, scrub, scrubbing),
                facts,
                guestMemory,
                scrubResult,
                range.node(),
                charts,
                new Label("Posture findings"),
                list);
        root.setPadding(new Insets(8));
        VBox.setVgrow(charts, Priority.ALWAYS);
    }

    /** Shows the VM named {@code name}. */
    public void show(String name) {
        if (!vm.getItems().contains(name)) {
            vm.getItems().add(name);
        }
        vm.setValue(name);
    }

    /** Loads the shown VM's history for the range shown (on connect, on a new VM or range). */
    public void loadHistory() {
        row().ifPresent(r -> history.loadVm(r.vm().name(), r.vm().uuid()));
    }

    public Optional<String> shown() {
        return Optional.ofNullable(vm.getValue());
    }

    private Optional<VmRow> row() {
        String name = vm.getValue();
        return model.rows().stream().filter(r -> r.vm().name().equals(name)).findFirst();
    }

    @Override
    public String title() {
        return "VM detail";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        List<String> names =
                model.rows().stream().map(r -> r.vm().name()).sorted().toList();
        if (!vm.getItems().equals(names)) {
            String keep = vm.getValue();
            vm.getItems().setAll(names);
            vm.setValue(keep);
        }
        if (vm.getValue() == null && !names.isEmpty()) {
            vm.setValue(names.get(0));
            return;
        }
        Optional<VmRow> row = row();
        if (row.isEmpty()) {
            reclaimed.clear();
            pages.clear();
            findings.clear();
            facts.setText(vm.getValue() == null ? "choose a VM" : vm.getValue() + ": not in the latest sample");
            guestMemory.setText("");
            return;
        }
        VmRow r = row.get();
        facts.setText(r.vm().stateLabel() + " · memory " + Units.bytes(r.vm().memoryBytes()) + " · reclaimed "
                + Units.bytes(r.reclaimed().totalBytes()) + " · agent " + r.vm().agentLabel() + " · posture "
                + (r.vm().postureScore().isPresent() ? r.vm().postureScore().getAsInt() + "/100" : "not scored")
                + (r.vm().postureLevel().isEmpty() ? "" : " (" + r.vm().postureLevelLabel() + ")")
                + (r.vm().freePageReporting() ? " · free page reporting on" : ""));
        guestMemory.setText(guestMemoryText(
                r, model.latestHost().get().map(h -> h.sampledAt()).orElse(Instant.now())));
        model.vm(r.vm().uuid()).ifPresent(table -> {
            double from = table.size() == 0
                    ? 0
                    : table.time(table.size() - 1) - model.range().get().toSeconds();
            reclaimed.update(table, from);
            pages.update(table, from);
        });
        List<String> now = r.vm().findings().stream()
                .map(f -> f.severity() + "  " + f.title() + " — " + f.evidence() + " → " + f.remediation())
                .toList();
        if (!findings.equals(now)) {
            findings.setAll(now);
        }
    }

    /**
     * The VM's guest RAM by state and how it was measured (docs/RECLAIM.md), or, where the controller does
     * not measure it, that the figures are what ksm_stat accounts.
     */
    static String guestMemoryText(VmRow r, Instant sampledAt) {
        Optional<GuestMemoryView> measured = r.vm().guestMemory();
        if (measured.isEmpty()) {
            return "Guest RAM not measured page by page (no QEMU process on the controller's machine); the figures are"
                    + " KSM-accounted (ksm_stat)"
                    + (r.vm().freePageReporting() ? ", free page reporting estimated from the balloon" : "");
        }
        GuestMemoryView g = measured.get();
        long age = Math.max(0, Duration.between(g.measuredAt(), sampledAt).toSeconds());
        String how = "Guest RAM, measured by " + g.description() + ", " + age + " s before the sample";
        if (!g.pageStates()) {
            return how + ": reclaimed " + Units.bytes(g.reclaimedBytes()) + " (a lower bound: KSM's zero pages only)";
        }
        return how + ": reclaimed " + Units.bytes(g.reclaimedBytes()) + " = zero page "
                + Units.bytes(g.bytes(g.zeroReclaimedPages())) + " + given back "
                + Units.bytes(g.bytes(g.givenBackPages())) + "  ·  KSM-shared " + Units.bytes(g.bytes(g.ksmPages()))
                + " (saves "
                + Units.bytes(g.bytes(g.ksmSavedPages())) + ")  ·  resident " + Units.bytes(g.bytes(g.residentPages()))
                + "  ·  zero page never backed " + Units.bytes(g.bytes(g.zeroNeverBackedPages()))
                + "  ·  huge zero page "
                + Units.bytes(g.bytes(g.hugeZeroPages())) + "  ·  swapped " + Units.bytes(g.bytes(g.swappedPages()))
                + "  ·  not present "
                + Units.bytes(g.bytes(g.notPresentPages())) + " of "
                + Units.bytes(g.guestRamPages() * g.pageSizeBytes());
    }

    private void scrub() {
        String name = vm.getValue();
        if (name == null) {
            return;
        }
        scrub.setDisable(true);
        scrubbing.setVisible(true);
        scrubResult.getStyleClass().remove("error");
        scrubResult.setText(
                "scrubbing " + name + "… (the agent zeroes the guest's free memory; this can take a while)");
        client.scrub(name)
                .whenComplete((report, failure) -> Platform.runLater(() -> {
                    scrub.setDisable(false);
                    scrubbing.setVisible(false);
                    if (failure != null) {
                        scrubResult.getStyleClass().add("error");
                        scrubResult.setText("scrub of " + name + " refused: " + ControlsView.message(failure));
                    } else {
                        scrubResult.setText("scrub of " + name + ": "
                                + report.path("outcome").asText() + ", "
                                + Units.bytes(report.path("bytes_zeroed").asLong()) + " zeroed in "
                                + report.path("duration_millis").asLong() + " ms"
                                + (report.path("reason").asText("").isEmpty()
                                        ? ""
                                        : " (" + report.path("reason").asText() + ")"));
                    }
                }));
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of(reclaimed.chart(), pages.chart());
    }

    /** A finding's whole text, wrapped at the list's width rather than scrolled sideways to. */
    private static final class WrappingCell extends ListCell<String> {
        WrappingCell() {
            setWrapText(true);
            setPrefWidth(0); // asks for no width of its own, so the list's width is what it wraps at
        }

        @Override
        protected void updateItem(String item, boolean empty) {
            super.updateItem(item, empty);
            setText(empty ? null : item);
        }
    }
}
