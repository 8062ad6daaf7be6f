package org.memhygiene.ui.fleet;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import javafx.application.Platform;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.transformation.FilteredList;
import javafx.collections.transformation.SortedList;
import javafx.geometry.Insets;
import javafx.scene.Parent;
import javafx.scene.control.Label;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableRow;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Count;
import org.memhygiene.ui.views.FittedTableView;
import org.memhygiene.ui.views.FittedTableView.Width;

/**
 * The fleet view ({@code memhygiene dashboard --prometheus URL}, docs/FLEET.md): every host Prometheus scrapes
 * with its VMs, reclaimed memory, posture score and firing alerts, refreshed every {@link #REFRESH}; sorted by any
 * column (worst posture first to start with), filtered by a text that matches a host or an alert. A double-click
 * (or Enter) on a host opens its own controller view when its API answers from here.
 */
public final class FleetView implements AutoCloseable {
    static final Duration REFRESH = Duration.ofSeconds(15);
    private static final Duration REACH_TIMEOUT = Duration.ofSeconds(3);

    private final PrometheusFleet fleet;
    private final Consumer<URI> openHost;
    private final ObservableList<FleetHost> hosts = FXCollections.observableArrayList();
    private final FilteredList<FleetHost> filtered = new FilteredList<>(hosts);
    private final FittedTableView<FleetHost> table = new FittedTableView<>();
    private final TextField filter = new TextField();
    private final Label status = new Label("asking Prometheus…");
    private final BorderPane root = new BorderPane();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(REACH_TIMEOUT).build();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread t = new Thread(task, "memhygiene-ui-fleet");
        t.setDaemon(true);
        return t;
    });

    /** @param openHost opens a host's own dashboard at its controller's URL (on the FX thread) */
    public FleetView(PrometheusFleet fleet, Consumer<URI> openHost) {
        this.fleet = fleet;
        this.openHost = openHost;
        TableColumn<FleetHost, String> host = column("Host", h -> h.instance());
        TableColumn<FleetHost, String> up = column("Scrape", h -> h.up() ? "up" : "DOWN");
        TableColumn<FleetHost, Long> vms = column("VMs", FleetHost::vms);
        TableColumn<FleetHost, Long> reclaimed = column(
                "Reclaimed",
                h -> h.reclaimedBytes().isPresent() ? h.reclaimedBytes().getAsLong() : -1L);
        reclaimed.setCellFactory(c -> new javafx.scene.control.TableCell<>() {
            @Override
            protected void updateItem(Long bytes, boolean empty) {
                super.updateItem(bytes, empty);
                setText(empty || bytes == null ? null : bytes < 0 ? "—" : ByteSize.format(bytes));
            }
        });
        // Every figure says how it was measured: page states, or smaps_rollup's lower bound (docs/RECLAIM.md).
        TableColumn<FleetHost, String> measured = column("Measured by", h -> String.join(", ", h.reclaimedMethods()));
        TableColumn<FleetHost, Double> posture = column(
                "Posture", h -> h.postureScore().isPresent() ? h.postureScore().getAsDouble() : Double.NaN);
        posture.setCellFactory(c -> new javafx.scene.control.TableCell<>() {
            @Override
            protected void updateItem(Double score, boolean empty) {
                super.updateItem(score, empty);
                setText(
                        empty || score == null
                                ? null
                                : score.isNaN() ? "—" : String.format(Locale.ROOT, "%.0f", score));
            }
        });
        posture.setComparator(Comparator.comparingDouble(s -> s.isNaN() ? Double.MAX_VALUE : s));
        TableColumn<FleetHost, String> alerts = column(
                "Alerts firing",
                h -> h.firingAlerts().isEmpty()
                        ? ""
                        : h.firingAlerts().size() + ": " + String.join(", ", h.firingAlerts()));
        // The figures as wide as they need; host, method and alerts share the rest, none cut where there is room.
        FittedTableView.fitCells(host, Width.AT_LEAST);
        FittedTableView.fit(up, Width.EXACTLY, "DOWN");
        FittedTableView.fit(vms, Width.EXACTLY, "9999");
        FittedTableView.fit(reclaimed, Width.EXACTLY, "1023.9 GiB");
        FittedTableView.fitCells(measured, Width.AT_LEAST);
        FittedTableView.fit(posture, Width.EXACTLY, "100");
        table.getColumns().setAll(List.of(host, up, vms, reclaimed, measured, posture, alerts));
        SortedList<FleetHost> sorted = new SortedList<>(filtered);
        sorted.comparatorProperty().bind(table.comparatorProperty());
        table.setItems(sorted);
        table.getSortOrder().setAll(List.of(posture));
        table.setPlaceholder(new Label("no hosts in the scrape job yet"));
        table.setRowFactory(t -> {
            TableRow<FleetHost> row = new TableRow<>();
            row.setOnMouseClicked(e -> {
                if (e.getClickCount() == 2 && !row.isEmpty()) {
                    open(row.getItem());
                }
            });
            return row;
        });
        table.setOnKeyPressed(e -> {
            if (e.getCode() == javafx.scene.input.KeyCode.ENTER
                    && table.getSelectionModel().getSelectedItem() != null) {
                open(table.getSelectionModel().getSelectedItem());
            }
        });
        filter.setPromptText("filter: host or alert");
        filter.textProperty().addListener((o, was, now) -> filtered.setPredicate(h -> matches(h, now)));
        HBox top = new HBox(8, new Label("Filter"), filter, status);
        HBox.setHgrow(status, Priority.ALWAYS);
        top.setPadding(new Insets(8));
        root.setTop(top);
        root.setCenter(table);
    }

    public Parent root() {
        return root;
    }

    TableView<FleetHost> table() {
        return table;
    }

    TextField filter() {
        return filter;
    }

    Label status() {
        return status;
    }

    /** Asks Prometheus now, then every {@link #REFRESH}. */
    public void start() {
        refresher.scheduleWithFixedDelay(this::refresh, 0, REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One refresh, off the FX thread: the hosts, or what went wrong in the status line. */
    void refresh() {
        try {
            List<FleetHost> now = fleet.hosts();
            Instant at = Instant.now();
            Platform.runLater(() -> {
                hosts.setAll(now);
                table.sort();
                status.setText(Count.of(now.size(), "host") + " from " + fleet.base() + " at "
                        + at.toString().substring(11, 19) + " UTC; double-click a host to open it");
            });
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Platform.runLater(() -> status.setText("Prometheus at " + fleet.base() + ": " + e.getMessage()));
        }
    }

    static boolean matches(FleetHost h, String text) {
        if (text == null || text.isBlank()) {
            return true;
        }
        String t = text.strip().toLowerCase(Locale.ROOT);
        return h.instance().toLowerCase(Locale.ROOT).contains(t)
                || h.firingAlerts().stream()
                        .anyMatch(a -> a.toLowerCase(Locale.ROOT).contains(t));
    }

    /** Opens the host's dashboard when its API answers here; says why not otherwise. */
    void open(FleetHost host) {
        URI url = host.controllerUrl();
        status.setText("reaching " + url + "…");
        Thread probe = new Thread(
                () -> {
                    String problem = reachable(url);
                    Platform.runLater(() -> {
                        if (problem.isEmpty()) {
                            status.setText("opened " + url);
                            openHost.accept(url);
                        } else {
                            status.setText(host.instance() + ": its API at " + url + " does not answer from here ("
                                    + problem + "); Prometheus reaches it, this machine may not");
                        }
                    });
                },
                "memhygiene-ui-fleet-open");
        probe.setDaemon(true);
        probe.start();
    }

    /** "" when GET /api/v1/status answers 200, else why not. */
    private String reachable(URI url) {
        try {
            HttpResponse<Void> r = http.send(
                    HttpRequest.newBuilder(url.resolve("/api/v1/status"))
                            .timeout(REACH_TIMEOUT)
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200 ? "" : "HTTP " + r.statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
    }

    private static <T> TableColumn<FleetHost, T> column(String title, Function<FleetHost, T> value) {
        TableColumn<FleetHost, T> c = new TableColumn<>(title);
        c.setCellValueFactory(cell -> new ReadOnlyObjectWrapper<>(value.apply(cell.getValue())));
        return c;
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
