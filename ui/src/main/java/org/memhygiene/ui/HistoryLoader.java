package org.memhygiene.ui;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import javafx.application.Platform;
import javafx.beans.property.ObjectProperty;
import org.memhygiene.ui.api.ApiException;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.api.HostView;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.DashboardModel.HistoryStatus;
import org.memhygiene.ui.model.SeriesTable;
import org.memhygiene.ui.model.Timestamps;

/**
 * Fills the model's series with the controller's recorded history (GET /api/v1/history) for the time
 * range shown, so the charts reach back before the dashboard connected. The request and its parsing
 * run on the client's threads; the merge (SeriesTable#merge: live rows win, history fills what the
 * stream missed) on the FX thread. A failure is shown next to the range selector and leaves the live
 * series as they were.
 */
public final class HistoryLoader {
    private final DashboardModel model;
    private final ControllerClient client;
    private long hostGeneration;
    private long vmGeneration;

    public HistoryLoader(DashboardModel model, ControllerClient client) {
        this.model = model;
        this.client = client;
    }

    /** The range ends at the latest sample: the controller's clock (simulated time on a simulated host), not ours. */
    private Optional<Instant[]> range() {
        Optional<HostView> latest = model.latestHost().get();
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        Instant to = latest.get().sampledAt();
        Duration range = model.range().get();
        return Optional.of(new Instant[] {to.minus(range), to});
    }

    /** Loads the host's history for the range shown (the FX thread only). */
    public void loadHost() {
        Optional<Instant[]> range = range();
        if (range.isEmpty()) {
            return;
        }
        long generation = ++hostGeneration;
        load(
                range.get(),
                Optional.empty(),
                model.hostHistory(),
                () -> generation == hostGeneration,
                points -> hostRows(points),
                model.host(),
                Optional.of(client.decisions(range.get()[0], range.get()[1]).thenApply(HistoryLoader::decisionLines)));
    }

    /** "time  MODE  RESULT: knobs; scrubs — reason (outcome)" per decision. */
    private static List<String> decisionLines(JsonNode document) {
        List<String> lines = new ArrayList<>();
        for (JsonNode d : document.path("decisions")) {
            String ksm = d.path("ksm").asText("");
            StringBuilder scrubs = new StringBuilder();
            d.path("scrubs")
                    .forEach(vm ->
                            scrubs.append(scrubs.length() == 0 ? "" : ", ").append(vm.asText()));
            lines.add(Timestamps.utc(Instant.parse(d.path("at").asText())) + "  "
                    + d.path("mode").asText("") + "  " + d.path("result").asText("")
                    + ": " + (ksm.isEmpty() ? "KSM as it was" : ksm) + (scrubs.length() == 0 ? "" : "; scrub " + scrubs)
                    + " — "
                    + d.path("reason").asText("") + " (" + d.path("outcome").asText("") + ")");
        }
        return lines;
    }

    /** Loads the history of the VM {@code name} (UUID {@code uuid}) for the range shown (the FX thread only). */
    public void loadVm(String name, String uuid) {
        Optional<Instant[]> range = range();
        if (range.isEmpty()) {
            return;
        }
        long generation = ++vmGeneration;
        long pageBytes = model.latestHost().get().orElseThrow().pageSizeBytes();
        load(
                range.get(),
                Optional.of(name),
                model.vmHistory(),
                () -> generation == vmGeneration,
                points -> vmRows(points, pageBytes),
                model.vmTable(uuid),
                Optional.empty());
    }

    private record Rows(double[] times, double[][] rows) {}

    private void load(
            Instant[] range,
            Optional<String> vm,
            ObjectProperty<HistoryStatus> status,
            BooleanSupplier current,
            Function<JsonNode, Rows> parse,
            SeriesTable into,
            Optional<CompletableFuture<List<String>>> decisions) {
        String what = "history " + vm.map(n -> "of " + n + " ").orElse("") + "from " + Timestamps.utc(range[0]) + " to "
                + Timestamps.utc(range[1]);
        status.set(new HistoryStatus(true, false, "loading " + what + "…"));
        CompletableFuture<Rows> samples =
                client.history(range[0], range[1], vm).thenApply(document -> parse.apply(document.path("points")));
        CompletableFuture<List<String>> decided = decisions.orElse(CompletableFuture.completedFuture(List.of()));
        samples.thenCombine(decided, (rows, lines) -> Map.entry(rows, lines))
                .whenComplete((both, failure) -> Platform.runLater(() -> {
                    if (!current.getAsBoolean()) {
                        return; // a newer load (another range or VM) owns the status
                    }
                    if (failure != null) {
                        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                        status.set(new HistoryStatus(
                                false,
                                true,
                                "cannot load the " + what + ": "
                                        + (cause instanceof ApiException ? cause.getMessage() : cause.toString())
                                        + " (showing the live samples only)"));
                        return;
                    }
                    Rows rows = both.getKey();
                    int taken = into.merge(rows.times(), rows.rows());
                    if (decisions.isPresent()) {
                        model.decisions().setAll(both.getValue());
                    }
                    status.set(new HistoryStatus(false, false, what + ": " + found(rows, taken)));
                    model.changed();
                }));
    }

    /**
     * What a load found: how many samples were recorded and from when, which is where the charts can start (the
     * controller records only while it runs, so often later than the range), and how many were drawn.
     */
    private static String found(Rows rows, int taken) {
        if (rows.times().length == 0) {
            return "no recorded samples";
        }
        Instant first = Instant.ofEpochMilli(Math.round(rows.times()[0] * 1000));
        return rows.times().length + " recorded samples from " + Timestamps.utc(first) + ", " + taken
                + " added to the live ones";
    }

    /** Host history in the model's host columns; what the history does not record (docs/HISTORY.md) is NaN. */
    private static Rows hostRows(JsonNode points) {
        int n = points.size();
        double[] times = new double[n];
        double[][] rows = new double[n][];
        for (int i = 0; i < n; i++) {
            JsonNode p = points.get(i);
            times[i] = seconds(p);
            // sharing, zero, given back, MemFree, MemAvailable, scan rate, ksmd CPU: measured page by page where the
            // sample has it (schema 3), else the KSM counters (docs/HISTORY.md)
            rows[i] = new double[] {
                either(p, "ksm_sharing_saved_bytes", "saved_by_sharing_bytes"),
                either(p, "zero_mapped_bytes", "saved_by_zero_pages_bytes"),
                number(p, "given_back_bytes"),
                Double.NaN,
                number(p, "mem_available_bytes"),
                Double.NaN,
                Double.NaN
            };
        }
        return new Rows(times, rows);
    }

    /**
     * One VM's history: its pages measured page by page where the sample has them (schema 3); else the
     * KSM-accounted ksm_saved_bytes, its merged plus zero pages (docs/API.md), so sharing is the difference.
     * The page columns are ksm_stat's either way.
     */
    private static Rows vmRows(JsonNode points, long pageBytes) {
        int n = points.size();
        double[] times = new double[n];
        double[][] rows = new double[n][];
        for (int i = 0; i < n; i++) {
            JsonNode p = points.get(i);
            times[i] = seconds(p);
            double saved = number(p, "ksm_saved_bytes");
            double zero = number(p, "zero_page_bytes");
            double sharing = Double.isNaN(saved) ? Double.NaN : saved - (Double.isNaN(zero) ? 0 : zero);
            double measuredSharing = number(p, "ksm_sharing_saved_bytes");
            double measuredZero = number(p, "zero_mapped_bytes");
            // sharing, zero, given back, merged pages, zero pages
            rows[i] = new double[] {
                Double.isNaN(measuredSharing) ? sharing : measuredSharing,
                Double.isNaN(measuredZero) ? zero : measuredZero,
                number(p, "given_back_bytes"),
                sharing / pageBytes,
                zero / pageBytes
            };
        }
        return new Rows(times, rows);
    }

    private static double seconds(JsonNode point) {
        String at = point.path("at").asText("");
        try {
            return Instant.parse(at).toEpochMilli() / 1000.0;
        } catch (DateTimeParseException e) {
            throw new ApiException(
                    0, "history point at = '" + at + "': expected an ISO-8601 instant from the controller");
        }
    }

    /** {@code key}'s number, else {@code otherwise}'s: a figure measured page by page before its KSM-accounted stand-in. */
    private static double either(JsonNode node, String key, String otherwise) {
        double value = number(node, key);
        return Double.isNaN(value) ? number(node, otherwise) : value;
    }

    private static double number(JsonNode node, String key) {
        JsonNode value = node.path(key);
        return value.isNumber() ? value.asDouble() : Double.NaN;
    }
}
