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
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.simulator.SimulatedHost;

/**
 * The API answers the host backend's errors with one status each, the same whichever backend the daemon
 * runs on: a KSM change the kernel's rules refuse while pages are shared is a 409 on a real host (a sysfs
 * tree of the test's own, pages_shared 12) and on a simulated one (the demo, merging) alike, a VM without
 * an agent a 409, an agent that does not answer a 502.
 */
class BackendErrorsApiTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private HttpResponse<String> send(int port, String method, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .header("Content-Type", "application/json")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> response) throws Exception {
        JsonNode body = Json.mapper().readTree(response.body());
        return body.get("error").asText();
    }

    private Daemon start(HostBackend host, String name) {
        DaemonConfig d = DaemonConfig.defaults();
        return Daemon.start(
                host,
                new DaemonConfig(
                        d.libvirtUri(),
                        Duration.ofSeconds(1),
                        d.agentTimeout(),
                        d.agentInterval(),
                        "127.0.0.1",
                        0,
                        Optional.empty(),
                        true,
                        dir.resolve(name + "/history"),
                        d.historyRetention(),
                        d.historyInterval(),
                        Optional.empty()),
                true,
                Clock.systemUTC());
    }

    @Test
    void mergeAcrossNodesWhilePagesAreSharedIsA409OnBothBackends() throws Exception {
        SysfsTree ksm = SysfsTree.create(dir).put("pages_shared", "12");
        String uri = new TestDriverHost()
                .domain("plain", true, Optional.empty(), false)
                .domain("silent", true, Optional.of(dir.resolve("nobody-listens.sock")), false)
                .write(dir.resolve("host.xml"));
        String linux;
        try (Daemon daemon = start(
                new LinuxHost(
                        uri,
                        Duration.ofMillis(500),
                        Duration.ZERO,
                        ksm.root(),
                        ProcessKsmReader.DEFAULT_ROOT,
                        Path.of("/sys"),
                        Clock.systemUTC()),
                "linux")) {
            HttpResponse<String> refused =
                    send(daemon.apiPort(), "PUT", "/api/v1/settings", "{\"merge_across_nodes\": 0}");
            assertEquals(409, refused.statusCode(), refused.body());
            linux = error(refused);
            assertEquals("1", ksm.get("merge_across_nodes"), "nothing was written");
            HttpResponse<String> noAgent = send(daemon.apiPort(), "POST", "/api/v1/vms/plain/scrub", "");
            assertEquals(409, noAgent.statusCode(), noAgent.body());
            HttpResponse<String> silent = send(daemon.apiPort(), "POST", "/api/v1/vms/silent/scrub", "");
            assertEquals(502, silent.statusCode(), silent.body());
            assertTrue(error(silent).startsWith("silent: "), silent.body());
            assertEquals(
                    404,
                    send(daemon.apiPort(), "POST", "/api/v1/vms/nobody/scrub", "")
                            .statusCode());
        }
        SimulatedHost simulated =
                SimulatedHost.builtin(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), 1);
        for (int minute = 0;
                simulated.snapshot().ksm().orElseThrow().stats().pagesShared().orElseThrow() == 0;
                minute++) {
            assertTrue(minute < 60, "the demo host shares pages within an hour");
            simulated.advance(Duration.ofMinutes(1));
        }
        try (Daemon daemon = start(simulated, "sim")) {
            HttpResponse<String> refused =
                    send(daemon.apiPort(), "PUT", "/api/v1/settings", "{\"merge_across_nodes\": 0}");
            assertEquals(409, refused.statusCode(), refused.body());
            String sim = error(refused);
            String rule = "merge_across_nodes can change only while no pages are shared";
            assertTrue(
                    linux.startsWith(rule) && sim.startsWith(rule), "the same words on both: " + linux + " / " + sim);
            HttpResponse<String> noAgent = send(daemon.apiPort(), "POST", "/api/v1/vms/batch/scrub", "");
            assertEquals(409, noAgent.statusCode(), noAgent.body());
        }
    }
}
