package org.memhygiene.ui;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javafx.application.Platform;
import org.memhygiene.ui.api.ApiDocuments;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.api.LiveStream;
import org.memhygiene.ui.api.VmView;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.SourceBreakdown;

/**
 * Feeds the model from a controller: the live stream's VM lists, each with the host part of
 * GET /api/v1/snapshot, broken down by source. Every network answer arrives on the client's threads
 * and reaches the model through Platform.runLater; the FX thread never waits.
 */
public final class Dashboard implements AutoCloseable {
    /**
     * No event for this long counts as a lost connection (a half-open TCP connection; a controller that
     * stops closes the stream at once). Generous: a big simulated host may take seconds per sample.
     */
    static final Duration SILENCE_LIMIT = Duration.ofSeconds(20);

    private final DashboardModel model;
    private final ControllerClient client;
    private final SourceBreakdown breakdown;
    private final LiveStream stream;

    public Dashboard(DashboardModel model, ControllerClient client, SourceBreakdown breakdown) {
        this.model = model;
        this.client = client;
        this.breakdown = breakdown;
        this.stream = new LiveStream(
                client,
                new LiveStream.Listener() {
                    @Override
                    public void snapshot(JsonNode vmsDocument) {
                        received(vmsDocument);
                    }

                    @Override
                    public void lost(String reason, Duration retryIn, int attempt) {
                        Platform.runLater(() -> model.connection()
                                .set(new DashboardModel.Connection(
                                        false,
                                        "Lost the connection to the"
                                                + " controller at " + client.base() + ": " + reason
                                                + ". Reconnecting in "
                                                + String.format(Locale.ROOT, "%.1f", retryIn.toMillis() / 1000.0)
                                                + " s (attempt " + attempt + ")…")));
                    }
                },
                SILENCE_LIMIT);
    }

    public void start() {
        stream.start();
    }

    public ControllerClient client() {
        return client;
    }

    private void received(JsonNode vmsDocument) {
        List<VmView> vms;
        try {
            vms = ApiDocuments.vms(vmsDocument);
        } catch (RuntimeException e) {
            Platform.runLater(() -> model.connection()
                    .set(new DashboardModel.Connection(
                            false,
                            "the controller sent a VM list this" + " dashboard cannot read: " + e.getMessage())));
            return;
        }
        client.snapshot().whenComplete((host, failure) -> {
            if (failure != null) {
                return; // the stream notices a controller that went away; one failed read is not that
            }
            SourceBreakdown.Result result = breakdown.of(host, vms);
            Platform.runLater(() -> {
                if (!model.connection().get().connected()) {
                    model.connection()
                            .set(new DashboardModel.Connection(
                                    true, "connected to " + client.base() + " (" + host.backendUri() + ")"));
                }
                model.add(host, vms, result);
            });
        });
    }

    @Override
    public void close() {
        stream.close();
        client.close();
    }
}
