package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.api.LoopbackApi;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.core.json.Json;
import org.memhygiene.simulator.SimulatedHost;

/**
 * The daemon (loop, policy, history, API, metrics) on the simulator's built-in demo host, unchanged:
 * what {@code memhygiene run --scenario} and the dashboard run; with hostile clients of issue 13.
 */
class SimulatedHostDaemonTest {
    private final HttpClient http = HttpClient.newHttpClient();

    static DaemonConfig settings(Path dir, Duration interval) {
        DaemonConfig d = DaemonConfig.defaults();
        return new DaemonConfig(
                d.libvirtUri(),
                interval,
                interval,
                d.agentInterval(),
                "127.0.0.1",
                0,
                Optional.empty(),
                true,
                dir.resolve("history"),
                d.historyRetention(),
                interval,
                Optional.empty());
    }

    @Test
    void daemonServesTheSimulatedHost(@TempDir Path dir) throws Exception {
        DaemonConfig settings = settings(dir, Duration.ofMillis(200));
        try (Daemon daemon =
                Daemon.start(SimulatedHost.builtin(Clock.systemUTC(), 120), settings, true, Clock.systemUTC())) {
            JsonNode vms = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                Thread.sleep(500);
                vms = Json.mapper().readTree(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/vms"));
                JsonNode ksm = Json.mapper()
                        .readTree(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/snapshot"))
                        .findPath("full_scans");
                if (vms.path("vms").size() >= 6 && ksm.asLong() >= 1) {
                    break;
                }
            }
            assertEquals("sim:///demo", vms.path("uri").asText(), vms.toString());
            JsonNode snapshot = Json.mapper().readTree(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/snapshot"));
            assertTrue(
                    snapshot.findPath("full_scans").asLong() >= 1,
                    "ksmd scanned the simulated host: " + snapshot.findPath("ksm"));
            assertTrue(vms.path("vms").size() >= 6, vms.toString());
            String metrics = LoopbackApi.getOk(daemon.apiPort(), "/metrics");
            assertTrue(metrics.contains("memhygiene_ksm_zero_pages"), metrics);
            assertTrue(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/status").contains("simulator: scenario 'demo'"));
        }
    }

    /** A stream client as issue 13 made one: a socket with a small receive buffer that asks for the stream and never reads. */
    private static Socket stalledStreamClient(int port) throws Exception {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        socket.getOutputStream()
                .write(("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    @Test
    void streamClientsThatDoNotReadStallNeitherSamplingNorTheOtherClients(@TempDir Path dir) throws Exception {
        // 64 guests: one event is about 150 KB, so a stalled client's socket buffers (at most tcp_wmem's 4 MiB
        // on the daemon's side, 4 KiB on the client's) hold at most ~30 events, and 100 samples overflow its queue.
        // The scenario comes from the controller's test jar (a jar: URI under `verify`), so copy it out to load it.
        Path scenario = dir.resolve("many-small-guests.yaml");
        try (InputStream in = getClass().getResourceAsStream("/scenarios/many-small-guests.yaml")) {
            Files.copy(in, scenario);
        }
        SimulatedHost host = SimulatedHost.load(scenario, Clock.systemUTC(), 1);
        List<Socket> stalled = new ArrayList<>();
        try (Daemon daemon = Daemon.start(host, settings(dir, Duration.ofMillis(100)), true, Clock.systemUTC())) {
            for (int i = 0; i < 4; i++) {
                stalled.add(stalledStreamClient(daemon.apiPort()));
            }
            long samplesBefore = daemon.loop().status().samples();
            HttpResponse<InputStream> stream = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.apiPort() + "/api/v1/stream"))
                            .header("Accept", "text/event-stream")
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            // Count samples by the events a reading client gets. Before, each stalled client held the sampling
            // thread in a write for Jetty's idle timeout (30 s) once its socket was full; 10 s between two
            // events of a 100 ms loop is a failure, not a tuned wait.
            ExecutorService reader = Executors.newSingleThreadExecutor();
            try (BufferedReader lines =
                    new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                Instant previous = Instant.MIN;
                for (int events = 0; events < 100; ) {
                    Future<String> next = reader.submit(lines::readLine);
                    String line = next.get(10, TimeUnit.SECONDS);
                    assertTrue(line != null, "the stream ended after " + events + " events");
                    if (line.startsWith("data: ")) {
                        assertTrue(
                                line.length() > 100_000,
                                "an event is large enough to fill the stalled sockets: " + line.length());
                        Instant sampledAt = Instant.parse(Json.mapper()
                                .readTree(line.substring(6))
                                .get("sampled_at")
                                .asText());
                        assertTrue(sampledAt.isAfter(previous), "a new sample each time");
                        previous = sampledAt;
                        events++;
                    }
                }
            } finally {
                reader.shutdownNow();
            }
            // The first event was the latest sample when the reader came; the 99 others are new samples.
            assertTrue(daemon.loop().status().samples() - samplesBefore >= 99, "the loop sampled all along");
            // A stalled client that reads again is told what it missed before its next snapshot.
            Socket late = stalled.get(0);
            late.setSoTimeout(20_000);
            BufferedReader lateLines =
                    new BufferedReader(new InputStreamReader(late.getInputStream(), StandardCharsets.UTF_8));
            String lost = null;
            int snapshots = 0;
            while (lost == null && snapshots < 100) {
                String line = lateLines.readLine();
                assertTrue(line != null, "the stream ended after " + snapshots + " snapshots");
                if (line.equals("event: lost")) {
                    lost = lateLines.readLine();
                } else if (line.equals("event: snapshot")) {
                    snapshots++;
                }
            }
            assertTrue(
                    lost != null && lost.startsWith("data: {\"lost_events\":"),
                    "no lost event among " + snapshots + " snapshots");
            assertTrue(
                    Json.mapper().readTree(lost.substring(6)).get("lost_events").asLong() > 0, lost);
            assertEquals("", lateLines.readLine(), "the lost event ends");
            assertEquals("event: snapshot", lateLines.readLine(), "the newest snapshot follows");
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    void historyQueriesOutsideTheTimesItCanHoldAre400s(@TempDir Path dir) throws Exception {
        try (Daemon daemon = Daemon.start(
                SimulatedHost.builtin(Clock.systemUTC(), 120),
                settings(dir, Duration.ofMillis(200)),
                true,
                Clock.systemUTC())) {
            for (String query : List.of(
                    "from=-999999999-01-01T00:00:00Z",
                    "to=+1000000000-01-01T00:00:00Z",
                    "from=1969-12-31T23:59:59Z&to=1970-01-02T00:00:00Z",
                    "from=yesterday")) {
                for (String path : List.of("/api/v1/history?", "/api/v1/history/decisions?")) {
                    HttpResponse<String> r = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.apiPort() + path + query))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(400, r.statusCode(), path + query + ": " + r.body());
                    String name = query.substring(0, query.indexOf('='));
                    assertTrue(
                            Json.mapper()
                                    .readTree(r.body())
                                    .get("error")
                                    .asText()
                                    .startsWith(name + " = "),
                            r.body());
                }
            }
            HttpResponse<String> ok = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.apiPort()
                                    + "/api/v1/history?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(
                    Json.mapper().readTree(ok.body()).get("points").size() >= 1,
                    "the first sample is in it: " + ok.body());
        }
    }
}
