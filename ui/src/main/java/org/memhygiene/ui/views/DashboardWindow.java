package org.memhygiene.ui.views;

import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.control.Alert;
import javafx.scene.control.CheckMenuItem;
import javafx.scene.control.Label;
import javafx.scene.control.Menu;
import javafx.scene.control.MenuBar;
import javafx.scene.control.MenuItem;
import javafx.scene.control.SeparatorMenuItem;
import javafx.scene.control.Tab;
import javafx.scene.control.TabPane;
import javafx.scene.input.KeyCombination;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;
import javafx.stage.Window;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.ui.HistoryLoader;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.export.ChartExport;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.Timestamps;
import org.memhygiene.ui.model.VmRow;

/**
 * The dashboard's window content: menu (views on Ctrl+1..6, export, theme), the lost-connection banner,
 * one tab per view and a status line. Only the shown view redraws on a sample.
 */
public final class DashboardWindow {
    public enum Theme {
        LIGHT,
        DARK;

        String stylesheet() {
            return DashboardWindow.class
                    .getResource("/org/memhygiene/ui/" + name().toLowerCase(Locale.ROOT) + ".css")
                    .toExternalForm();
        }
    }

    private final DashboardModel model;
    private final OverviewView overview;
    private final TradeoffView tradeoff;
    private final VmsView vms;
    private final FindingsView findings;
    private final ControlsView controls;
    private final VmDetailView detail;
    private final List<DashboardView> views;
    private final TabPane tabs = new TabPane();
    private final Label banner = new Label();
    private final Label status = new Label();
    private final BorderPane root = new BorderPane();
    private final CheckMenuItem dark = new CheckMenuItem("Dark theme");
    private Theme theme;

    public DashboardWindow(DashboardModel model, ControllerClient client, String source, Theme theme) {
        this.model = model;
        this.overview = new OverviewView(model);
        this.tradeoff = new TradeoffView(model, client, this::open);
        this.vms = new VmsView(model, this::open);
        this.findings = new FindingsView(model);
        this.controls = new ControlsView(model, client);
        HistoryLoader history = new HistoryLoader(model, client);
        this.detail = new VmDetailView(model, client, history);
        this.views = List.of(overview, tradeoff, vms, findings, controls, detail);
        for (DashboardView view : views) {
            Tab tab = new Tab(view.title(), view.node());
            tab.setClosable(false);
            tab.setId("tab-" + view.getClass().getSimpleName());
            tabs.getTabs().add(tab);
        }
        tabs.getSelectionModel()
                .selectedIndexProperty()
                .addListener((o, was, now) -> views.get(now.intValue()).refresh());
        model.revision().addListener((o, was, now) -> current().refresh());

        banner.setId("connection-banner");
        banner.getStyleClass().add("banner");
        banner.setMaxWidth(Double.MAX_VALUE);
        banner.setWrapText(true);
        banner.setPadding(new Insets(6, 10, 6, 10));
        model.connection().addListener((o, was, now) -> showConnection(now));
        // On (re)connection: the first sample's model update follows this change in the same FX
        // event, so the load (which ends its range at the latest sample) runs after it.
        model.connection().addListener((o, was, now) -> {
            if (now.connected() && !was.connected()) {
                Platform.runLater(() -> {
                    history.loadHost();
                    detail.loadHistory();
                });
            }
        });
        model.range().addListener((o, was, now) -> {
            history.loadHost();
            detail.loadHistory();
            current().refresh();
        });
        showConnection(model.connection().get());
        status.setId("status-line");
        status.getStyleClass().add("status-line");
        status.setPadding(new Insets(3, 8, 3, 8));
        // The source's description can be wider than the window: wrapped, the last sample's time stays in view.
        status.setWrapText(true);
        status.setMaxWidth(Double.MAX_VALUE);
        status.setMinHeight(Region.USE_PREF_SIZE);
        status.setText("source: " + source);
        model.latestHost()
                .addListener((o, was, now) -> now.ifPresent(h -> status.setText("source: " + source + "  ·  "
                        + h.backendUri() + "  ·  last sample " + Timestamps.utc(h.sampledAt()))));

        root.setTop(new VBox(menu(), banner));
        root.setCenter(tabs);
        root.setBottom(status);
        root.getStyleClass().add("dashboard");
        setTheme(theme);
    }

    private MenuBar menu() {
        MenuItem png = new MenuItem("Export current view as PNG…");
        png.setAccelerator(KeyCombination.keyCombination("Shortcut+E"));
        png.setOnAction(e -> exportPng());
        MenuItem csv = new MenuItem("Export current charts' data as CSV…");
        csv.setAccelerator(KeyCombination.keyCombination("Shortcut+Shift+E"));
        csv.setOnAction(e -> exportCsv());
        MenuItem quit = new MenuItem("Quit");
        quit.setAccelerator(KeyCombination.keyCombination("Shortcut+Q"));
        quit.setOnAction(e -> window().hide());
        Menu file = new Menu("_File", null, png, csv, new SeparatorMenuItem(), quit);
        Menu view = new Menu("_View");
        for (int i = 0; i < views.size(); i++) {
            int index = i;
            MenuItem item = new MenuItem(views.get(i).title());
            item.setAccelerator(KeyCombination.keyCombination("Shortcut+" + (i + 1)));
            item.setOnAction(e -> select(index));
            view.getItems().add(item);
        }
        dark.setAccelerator(KeyCombination.keyCombination("Shortcut+T"));
        dark.setOnAction(e -> setTheme(dark.isSelected() ? Theme.DARK : Theme.LIGHT));
        view.getItems().addAll(new SeparatorMenuItem(), dark);
        return new MenuBar(file, view);
    }

    private void showConnection(DashboardModel.Connection connection) {
        boolean show = !connection.connected() && !connection.message().startsWith("connecting");
        banner.setText(connection.message());
        banner.setVisible(show);
        banner.setManaged(show);
    }

    public void setTheme(Theme newTheme) {
        theme = newTheme;
        dark.setSelected(newTheme == Theme.DARK);
        root.getStylesheets().setAll(newTheme.stylesheet());
    }

    public Theme theme() {
        return theme;
    }

    public Parent root() {
        return root;
    }

    public Scene scene(double width, double height) {
        return new Scene(root, width, height);
    }

    public void select(int index) {
        tabs.getSelectionModel().select(index);
    }

    public List<DashboardView> views() {
        return views;
    }

    public DashboardView current() {
        return views.get(tabs.getSelectionModel().getSelectedIndex());
    }

    public OverviewView overview() {
        return overview;
    }

    public TradeoffView tradeoff() {
        return tradeoff;
    }

    public VmDetailView detail() {
        return detail;
    }

    public Label banner() {
        return banner;
    }

    private void open(VmRow row) {
        detail.show(row.vm().name());
        select(views.indexOf(detail));
    }

    private Window window() {
        return root.getScene().getWindow();
    }

    private void exportPng() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Export " + current().title() + " as PNG");
        chooser.setInitialFileName(fileName(current()) + ".png");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("PNG image", "*.png"));
        File file = chooser.showSaveDialog(window());
        if (file != null) {
            try {
                ChartExport.png(current().exportNode(), file.toPath());
            } catch (IOException e) {
                error("Cannot write " + file + ": " + Errno.describe(e));
            }
        }
    }

    private void exportCsv() {
        if (current().charts().isEmpty()) {
            error(current().title() + " has no chart; choose Host overview, Trade-off or VM detail.");
            return;
        }
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Export the data of " + current().title() + " as CSV");
        chooser.setInitialFileName(fileName(current()) + ".csv");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("CSV", "*.csv"));
        File file = chooser.showSaveDialog(window());
        if (file != null) {
            try {
                ChartExport.csv(current().charts(), file.toPath());
            } catch (IOException e) {
                error("Cannot write " + file + ": " + Errno.describe(e));
            }
        }
    }

    public static String fileName(DashboardView view) {
        return view.title().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }

    private void error(String text) {
        Alert alert = new Alert(Alert.AlertType.ERROR, text);
        alert.initOwner(window());
        alert.show();
    }
}
