package org.memhygiene.controller.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.memhygiene.core.json.Json;

/**
 * A real Prometheus server (Debian's prometheus package) on a free loopback port, for the tests that have one
 * scrape the daemon (HostMetricsTest, the dashboard's FleetViewTest): its configuration and storage in the
 * test's directory, its output in prometheus.log there, stopped on close. Shared through this module's test jar.
 */
public final class RealPrometheus implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/prometheus");

    private final Process server;
    private final URI base;
    private final Path log;
    private final HttpClient http = HttpClient.newHttpClient();

    private RealPrometheus(Process server, URI base, Path log) {
        this.server = server;
        this.base = base;
        this.log = log;
    }

    /** Skips the calling test, with the reason printed, where Prometheus is not installed. */
    public static void assumeInstalled(String test) {
        if (!Files.isExecutable(BINARY)) {
            System.out.println(
                    test + " skipped: " + BINARY + " is not installed (Debian: prometheus; .ci/run installs it)");
            Assumptions.abort("no prometheus");
        }
    }

    /** Writes {@code configYaml} as dir/prometheus.yml and starts the server on it. */
    public static RealPrometheus start(Path dir, String configYaml) throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("prometheus.yml"), configYaml);
        Path log = dir.resolve("prometheus.log");
        Process server = new ProcessBuilder(
                        BINARY.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("tsdb"),
                        "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new RealPrometheus(server, URI.create("http://127.0.0.1:" + port), log);
    }

    public URI base() {
        return base;
    }

    /** The result vector of an instant query; missing while the server is not listening yet. */
    public JsonNode query(String promql) {
        try {
            String body = http.send(
                            HttpRequest.newBuilder(base.resolve(
                                            "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            return Json.mapper().readTree(body).at("/data/result");
        } catch (IOException e) {
            return MissingNode.getInstance(); // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return MissingNode.getInstance();
        }
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** Stops the server; an IllegalStateException when it did not stop within 20 s of SIGTERM. */
    @Override
    public void close() throws InterruptedException {
        server.destroy();
        if (!server.waitFor(20, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            throw new IllegalStateException("prometheus did not stop within 20 s of SIGTERM");
        }
    }
}
