package org.memhygiene.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.memhygiene.controller.api.ApiServer;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.history.History;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.metrics.HostMetrics;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.core.json.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code memhygiene run} (the daemon) and {@code memhygiene status} (asks a running daemon). */
final class DaemonCommands {
    private DaemonCommands() {
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "The daemon: samples KSM, libvirt and the agents every interval and serves the HTTP API"
                    + " (docs/API.md) until stopped (SIGTERM, Ctrl-C).")
    static final class Run implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--config", paramLabel = "FILE",
                description = "The daemon's configuration (default: built-in defaults; see controller/src/main/dist/memhygiene.yaml).")
        Path config;
        @Option(names = "--dry-run", description = "Decide and explain, change nothing (overrides the file's dry_run).")
        boolean dryRun;

        @Override
        public Integer call() throws InterruptedException {
            DaemonConfig settings;
            ApiServer api;
            try {
                settings = config == null ? DaemonConfig.defaults() : DaemonConfig.load(config);
                settings.apiToken(); // a bad token file is a usage error, before anything starts
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "config " + e.getMessage());
            }
            PrintWriter err = spec.commandLine().getErr();
            LinuxHost host = LinuxHost.of(settings.libvirtUri(), settings.agentTimeout(), settings.agentInterval());
            History history;
            try {
                java.nio.file.Files.createDirectories(settings.historyPath().toAbsolutePath().getParent());
                history = new History(settings.historyPath(), settings.historyRetention(), settings.historyInterval(),
                        Clock.systemUTC());
            } catch (java.io.IOException | IllegalStateException e) {
                host.close();
                throw new IllegalStateException("history " + settings.historyPath() + ": " + e.getMessage(), e);
            }
            PolicyConfig policyConfig;
            try {
                policyConfig = settings.policyFile().map(PolicyConfig::load).orElse(PolicyConfig.defaults());
            } catch (IllegalArgumentException e) {
                history.close();
                host.close();
                throw new CommandLine.ParameterException(spec.commandLine(), "policy " + e.getMessage());
            }
            PolicyStep policy = new PolicyStep(policyConfig.policy(), policyConfig.interval(), host, settings.dryRun() || dryRun);
            SnapshotLoop loop = new SnapshotLoop(host, settings.interval(), Clock.systemUTC(), List.of(policy, history::record));
            try {
                HostMetrics metrics = new HostMetrics(loop::latest, loop::status);
                api = new ApiServer(loop, settings.apiBind(), settings.apiPort(), settings.apiToken(), metrics::scrape,
                        Map.of("history", query -> historyView(history, query), "decisions", query -> policy.records()));
            } catch (IllegalArgumentException e) {
                history.close();
                host.close();
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            loop.tick(); // the first sample before the API opens, so it never answers "no snapshot yet" for long
            api.start();
            loop.start();
            err.printf("memhygiene: daemon on %s, sampling every %d ms, %s policy every %d s%s; API on http://%s:%d/api/v1%n",
                    host.describe(), settings.interval().toMillis(), policyConfig.mode().name().toLowerCase(java.util.Locale.ROOT),
                    policyConfig.interval().toSeconds(), settings.dryRun() || dryRun ? " (dry run)" : "", settings.apiBind(), api.port());
            err.flush();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                api.close();
                loop.close();
                policy.close();
                host.close();
                history.close();
                stopped.countDown();
            }, "memhygiene-shutdown"));
            stopped.await();
            return 0;
        }
    }

    /**
     * GET /api/v1/history?from=ISO&amp;to=ISO[&amp;vm=NAME]: the host's (or one VM's) samples in [from, to);
     * default: the last hour.
     */
    static Object historyView(History history, Map<String, String> query) {
        java.time.Instant to = query.containsKey("to") ? java.time.Instant.parse(query.get("to")) : java.time.Instant.now();
        java.time.Instant from = query.containsKey("from") ? java.time.Instant.parse(query.get("from")) : to.minus(Duration.ofHours(1));
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        return query.containsKey("vm") ? Map.of("vm", query.get("vm"), "points", history.vmSeries(query.get("vm"), from, to))
                : Map.of("points", history.hostSeries(from, to));
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Ask the running daemon how it is doing: backend, samples, failures, last sample.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--api", paramLabel = "URL", description = "The daemon's API (default: ${DEFAULT-VALUE}).")
        URI api = URI.create("http://127.0.0.1:" + DaemonConfig.DEFAULT_PORT);
        @Option(names = "--json", description = "Print the daemon's status document (docs/API.md).")
        boolean json;

        @Override
        public Integer call() throws IOException, InterruptedException {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            HttpResponse<String> response;
            try {
                response = client.send(HttpRequest.newBuilder(api.resolve("/api/v1/status")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IOException("no daemon answers at " + api + " (" + e.getMessage() + "); start it with"
                        + " 'memhygiene run'", e);
            }
            if (response.statusCode() != 200) {
                throw new IOException(api + " answered HTTP " + response.statusCode() + ": " + response.body());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(response.body());
            } else {
                JsonNode s = Json.mapper().readTree(response.body());
                TextTable table = new TextTable("DAEMON", "");
                table.row("backend", s.path("backend").asText());
                table.row("running since", s.path("started_at").asText());
                table.row("interval", s.path("interval_millis").asLong() + " ms");
                table.row("samples / failures", s.path("samples").asLong() + " / " + s.path("failures").asLong());
                table.row("last sample", s.path("last_sample_at").asText("none") + " (" + s.path("last_sample_millis").asText("-") + " ms)");
                table.row("last error", s.path("last_error").isNull() ? "none" : s.path("last_error").asText());
                out.print(table);
            }
            out.flush();
            return 0;
        }
    }
}
