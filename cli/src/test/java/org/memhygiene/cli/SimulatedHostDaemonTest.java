package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.core.json.Json;
import org.memhygiene.simulator.SimulatedHost;

/**
 * The daemon (loop, policy, history, API, metrics) on the simulator's built-in demo host, unchanged:
 * what {@code memhygiene run --scenario} and the dashboard run.
 */
class SimulatedHostDaemonTest {
    private final HttpClient http = HttpClient.newHttpClient();

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    @Test
    void daemonServesTheSimulatedHost(@TempDir Path dir) throws Exception {
        DaemonConfig d = DaemonConfig.defaults();
        DaemonConfig settings = new DaemonConfig(d.libvirtUri(), Duration.ofMillis(200), d.agentTimeout(), d.agentInterval(),
                "127.0.0.1", 0, Optional.empty(), true, dir.resolve("history"), d.historyRetention(),
                Duration.ofMillis(200), Optional.empty());
        try (Daemon daemon = Daemon.start(SimulatedHost.builtin(Clock.systemUTC(), 120), settings, true, Clock.systemUTC())) {
            JsonNode vms = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                Thread.sleep(500);
                vms = Json.mapper().readTree(get(daemon.apiPort(), "/api/v1/vms"));
                JsonNode ksm = Json.mapper().readTree(get(daemon.apiPort(), "/api/v1/snapshot")).findPath("full_scans");
                if (vms.path("vms").size() >= 6 && ksm.asLong() >= 1) {
                    break;
                }
            }
            assertEquals("sim:///demo", vms.path("uri").asText(), vms.toString());
            JsonNode snapshot = Json.mapper().readTree(get(daemon.apiPort(), "/api/v1/snapshot"));
            assertTrue(snapshot.findPath("full_scans").asLong() >= 1, "ksmd scanned the simulated host: " + snapshot.findPath("ksm"));
            assertTrue(vms.path("vms").size() >= 6, vms.toString());
            String metrics = get(daemon.apiPort(), "/metrics");
            assertTrue(metrics.contains("memhygiene_ksm_zero_pages"), metrics);
            assertTrue(get(daemon.apiPort(), "/api/v1/status").contains("simulator: scenario 'demo'"));
        }
    }
}
