package org.memhygiene.ui.views;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.control.TextField;
import javafx.scene.control.TitledPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import org.memhygiene.ui.api.ApiException;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.api.KsmView;
import org.memhygiene.ui.model.DashboardModel;

/**
 * KSM knobs (PUT /api/v1/settings) and the policy mode (PUT /api/v1/policy), each applied after a
 * confirmation; the controller's refusal shows in red, with its message.
 */
public final class ControlsView implements DashboardView {
    static final List<String> RUN_VALUES = List.of("0", "1", "2");
    static final List<String> POLICY_MODES = List.of("adaptive", "baseline", "off");

    private final DashboardModel model;
    private final ControllerClient client;
    private final ChoiceBox<String> run = new ChoiceBox<>();
    private final TextField pagesToScan = new TextField();
    private final TextField sleepMillisecs = new TextField();
    private final CheckBox useZeroPages =
            new CheckBox("use_zero_pages: merge zero-filled pages with the kernel's zero page");
    private final Label current = new Label("current: –");
    private final ChoiceBox<String> mode = new ChoiceBox<>();
    private final CheckBox dryRun = new CheckBox("dry run: decide and record, change nothing");
    private final Label currentPolicy = new Label("policy: –");
    private final Label result = new Label();
    private final Label error = new Label();
    private final ProgressIndicator busy = new ProgressIndicator();
    private final VBox root;
    private boolean filled;

    public ControlsView(DashboardModel model, ControllerClient client) {
        this.model = model;
        this.client = client;
        run.getItems().setAll(RUN_VALUES);
        run.setId("ksm-run");
        pagesToScan.setId("ksm-pages-to-scan");
        sleepMillisecs.setId("ksm-sleep-millisecs");
        useZeroPages.setId("ksm-use-zero-pages");
        useZeroPages.setMnemonicParsing(false); // the knob's name has an underscore
        mode.getItems().setAll(POLICY_MODES);
        mode.setId("policy-mode");
        dryRun.setId("policy-dry-run");
        dryRun.setMnemonicParsing(false);
        result.setId("controls-result");
        result.setWrapText(true);
        error.setId("controls-error");
        error.getStyleClass().add("error");
        error.setWrapText(true);
        current.setId("ksm-current");
        currentPolicy.setId("policy-current");
        busy.setMaxSize(18, 18);
        busy.setVisible(false);

        GridPane ksm = new GridPane();
        ksm.setHgap(8);
        ksm.setVgap(6);
        ksm.addRow(0, new Label("run (0 stop, 1 merge, 2 stop and unmerge all)"), run);
        ksm.addRow(1, new Label("pages_to_scan (pages per wake-up)"), pagesToScan);
        ksm.addRow(2, new Label("sleep_millisecs (ms between wake-ups)"), sleepMillisecs);
        ksm.add(useZeroPages, 0, 3, 2, 1);
        Button applyKsm = new Button("Apply KSM settings…");
        applyKsm.setId("apply-ksm");
        applyKsm.setOnAction(e -> applyKsm());
        Button reload = new Button("Show current values");
        reload.setOnAction(e -> fill());
        ksm.add(new HBox(8, applyKsm, reload), 0, 4, 2, 1);
        ksm.add(current, 0, 5, 2, 1);

        GridPane policy = new GridPane();
        policy.setHgap(8);
        policy.setVgap(6);
        policy.addRow(0, new Label("mode (adaptive, ksmtuned baseline, or off)"), mode);
        policy.add(dryRun, 0, 1, 2, 1);
        Button applyPolicy = new Button("Apply policy…");
        applyPolicy.setId("apply-policy");
        applyPolicy.setOnAction(e -> applyPolicy());
        policy.add(applyPolicy, 0, 2);
        policy.add(currentPolicy, 0, 3, 2, 1);

        TitledPane ksmPane = new TitledPane("KSM (/sys/kernel/mm/ksm on the controller's host)", ksm);
        ksmPane.setCollapsible(false);
        TitledPane policyPane = new TitledPane("Policy", policy);
        policyPane.setCollapsible(false);
        root = new VBox(10, ksmPane, policyPane, new HBox(8, busy, result), error);
        root.setPadding(new Insets(8));
        loadPolicy();
    }

    @Override
    public String title() {
        return "Controls";
    }

    @Override
    public Node node() {
        return root;
    }

    @Override
    public void refresh() {
        Optional<KsmView> ksm = model.latestHost().get().flatMap(h -> h.ksm());
        current.setText(ksm.map(k -> "current: run=" + text(k.run()) + "  pages_to_scan=" + text(k.pagesToScan())
                        + "  sleep_millisecs=" + text(k.sleepMillisecs()) + "  use_zero_pages="
                        + text(k.useZeroPages()))
                .orElse("current: this controller cannot see its host's KSM"));
        if (!filled && ksm.isPresent()) {
            fill();
        }
    }

    /** Puts the host's current knob values into the fields. */
    private void fill() {
        model.latestHost().get().flatMap(h -> h.ksm()).ifPresent(k -> {
            filled = true;
            k.run().ifPresent(v -> run.setValue(Long.toString(v)));
            k.pagesToScan().ifPresent(v -> pagesToScan.setText(Long.toString(v)));
            k.sleepMillisecs().ifPresent(v -> sleepMillisecs.setText(Long.toString(v)));
            k.useZeroPages().ifPresent(v -> useZeroPages.setSelected(v == 1));
        });
    }

    private static String text(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "absent";
    }

    /** The knobs that differ from the host's current values (all of them when those are unknown). */
    Map<String, Object> requestedKnobs() {
        Optional<KsmView> ksm = model.latestHost().get().flatMap(h -> h.ksm());
        Map<String, Object> knobs = new LinkedHashMap<>();
        if (run.getValue() != null) {
            put(knobs, "run", Long.parseLong(run.getValue()), ksm.map(KsmView::run));
        }
        number(pagesToScan, "pages_to_scan")
                .ifPresent(v -> put(knobs, "pages_to_scan", v, ksm.map(KsmView::pagesToScan)));
        number(sleepMillisecs, "sleep_millisecs")
                .ifPresent(v -> put(knobs, "sleep_millisecs", v, ksm.map(KsmView::sleepMillisecs)));
        put(knobs, "use_zero_pages", useZeroPages.isSelected() ? 1L : 0L, ksm.map(KsmView::useZeroPages));
        return knobs;
    }

    private static void put(Map<String, Object> knobs, String knob, long value, Optional<OptionalLong> now) {
        if (now.isEmpty() || now.get().isEmpty() || now.get().getAsLong() != value) {
            knobs.put(knob, value);
        }
    }

    private static Optional<Long> number(TextField field, String knob) {
        String text = field.getText().strip();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(text));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(knob + " = '" + text + "': expected a whole number");
        }
    }

    private void applyKsm() {
        Map<String, Object> knobs;
        try {
            knobs = requestedKnobs();
        } catch (IllegalArgumentException e) {
            showError(e.getMessage());
            return;
        }
        if (knobs.isEmpty()) {
            showResult("nothing to change: every knob already has that value");
            return;
        }
        String body = knobs.toString().replace("{", "").replace("}", "");
        if (confirm("Change KSM on the controller's host?", "PUT " + client.base() + "/api/v1/settings\n" + body)) {
            run(client.putSettings(knobs), answer -> {
                StringBuilder text = new StringBuilder("KSM changed:");
                answer.path("changes")
                        .forEach(c -> text.append("  ")
                                .append(c.path("knob").asText().toLowerCase(Locale.ROOT))
                                .append(' ')
                                .append(c.path("before").asText())
                                .append(" → ")
                                .append(c.path("after").asText()));
                return answer.path("changes").isEmpty() ? "KSM: nothing changed" : text.toString();
            });
        }
    }

    private void applyPolicy() {
        if (mode.getValue() == null) {
            showError("policy: choose a mode first");
            return;
        }
        String m = mode.getValue();
        boolean dry = dryRun.isSelected();
        if (confirm(
                "Switch the controller's policy?",
                "PUT " + client.base() + "/api/v1/policy\nmode=" + m + ", dry_run=" + dry)) {
            run(client.putPolicy(m, dry), answer -> {
                showPolicy(answer);
                return "policy is now " + answer.path("mode").asText(m)
                        + (answer.path("dry_run").asBoolean(dry) ? " (dry run)" : "");
            });
        }
    }

    private void loadPolicy() {
        client.policy()
                .whenComplete((answer, failure) -> Platform.runLater(() -> {
                    if (failure != null) {
                        currentPolicy.setText("policy: " + message(failure));
                    } else {
                        showPolicy(answer);
                        mode.setValue(answer.path("mode").asText(null));
                        dryRun.setSelected(answer.path("dry_run").asBoolean(false));
                    }
                }));
    }

    private void showPolicy(JsonNode answer) {
        currentPolicy.setText("policy: " + answer.path("mode").asText("?")
                + (answer.path("dry_run").asBoolean(false) ? " (dry run)" : ""));
    }

    private boolean confirm(String header, String content) {
        return Confirmation.ask(root, header, content);
    }

    private void run(CompletableFuture<JsonNode> call, Function<JsonNode, String> describe) {
        busy.setVisible(true);
        error.setText("");
        result.setText("sending…");
        call.whenComplete((answer, failure) -> Platform.runLater(() -> {
            busy.setVisible(false);
            if (failure != null) {
                result.setText("");
                showError("refused: " + message(failure));
            } else {
                showResult(describe.apply(answer));
            }
        }));
    }

    private void showResult(String text) {
        error.setText("");
        result.setText(text);
    }

    private void showError(String text) {
        result.setText("");
        error.setText(text);
    }

    static String message(Throwable failure) {
        Throwable t =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (t instanceof ApiException api) {
            return (api.status() > 0 ? "HTTP " + api.status() + ": " : "") + api.getMessage();
        }
        return String.valueOf(t.getMessage());
    }

    @Override
    public List<XYChart<Number, Number>> charts() {
        return List.of();
    }
}
