package org.memhygiene.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.linux.LinuxProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code memhygiene run} (the daemon) and {@code memhygiene status} (asks a running daemon). */
final class DaemonCommands {
    private DaemonCommands() {}

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = "The daemon: samples KSM, libvirt and the agents every interval and serves the HTTP API"
                    + " (docs/API.md) until stopped (SIGTERM, Ctrl-C).")
    static final class Run implements Callable<Integer> {
        private final Function<Path, HostBackend> scenarios;
        /** Nothing for group or others: directories 0700, files 0600. */
        static final int PRIVATE_FILES_UMASK = 0077;

        @Spec
        CommandSpec spec;

        @Option(
                names = "--config",
                paramLabel = "FILE",
                description =
                        "The daemon's configuration (default: built-in defaults; see controller/src/main/dist/memhygiene.yaml).")
        Path config;

        @Option(names = "--dry-run", description = "Decide and explain, change nothing (overrides the file's dry_run).")
        boolean dryRun;

        @Option(
                names = "--scenario",
                paramLabel = "FILE",
                description = "Run on a simulated host from this scenario instead of libvirt (docs/SIMULATOR.md).")
        Path scenario;

        /** @param scenarios opens a scenario file as a simulated host (the simulator's, given by the command module) */
        Run(Function<Path, HostBackend> scenarios) {
            this.scenarios = scenarios;
        }

        @Override
        public Integer call() throws InterruptedException {
            DaemonConfig settings;
            try {
                settings = config == null ? DaemonConfig.defaults() : DaemonConfig.load(config);
                settings.apiToken()
                        .ifPresent(token -> token.close()); // a bad token file is a usage error, before anything starts
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "config " + e.getMessage());
            }
            // What the daemon creates (the state directory, the history database and H2's files beside it)
            // is its owner's alone whatever umask it was started with, as memhygiene.service's UMask=0077
            // makes it under systemd (docs/HISTORY.md).
            LinuxProcess.umask(PRIVATE_FILES_UMASK);
            PrintWriter err = spec.commandLine().getErr();
            HostBackend backend;
            if (scenario != null) {
                try {
                    backend = scenarios.apply(scenario);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "scenario " + e.getMessage());
                }
            } else {
                backend = LinuxHost.of(
                        settings.libvirtUri(),
                        settings.agentTimeout(),
                        settings.agentInterval(),
                        settings.guestMemory());
            }
            Daemon daemon;
            try {
                daemon = Daemon.start(backend, settings, dryRun, Clock.systemUTC());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            err.printf(
                    "memhygiene: daemon on %s, sampling every %d ms, %s policy every %d s%s; API on http://%s:%d/api/v1%n",
                    daemon.host().describe(),
                    settings.interval().toMillis(),
                    daemon.policyConfig().mode().name().toLowerCase(Locale.ROOT),
                    daemon.policyConfig().interval().toSeconds(),
                    settings.dryRun() || dryRun ? " (dry run)" : "",
                    settings.apiBind(),
                    daemon.apiPort());
            err.flush();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                daemon.close();
                                stopped.countDown();
                            },
                            "memhygiene-shutdown"));
            stopped.await();
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
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
            HttpClient client = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .build();
            HttpResponse<String> response;
            try {
                response = client.send(
                        HttpRequest.newBuilder(api.resolve("/api/v1/status"))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IOException(
                        "no daemon answers at " + api + " (" + why(e) + "); start it with" + " 'memhygiene run'", e);
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
                table.row(
                        "samples / failures",
                        s.path("samples").asLong() + " / " + s.path("failures").asLong());
                table.row(
                        "last sample",
                        s.path("last_sample_at").asText("none") + " ("
                                + s.path("last_sample_millis").asText("-") + " ms)");
                table.row(
                        "last error",
                        s.path("last_error").isNull()
                                ? "none"
                                : s.path("last_error").asText());
                for (JsonNode source : s.path("sources")) {
                    table.row(
                            "source " + source.path("name").asText(),
                            source.path("up").asBoolean()
                                    ? "up"
                                    : "DOWN"
                                            + (source.path("stale").asBoolean()
                                                    ? ", figures "
                                                            + source.path("age_millis")
                                                                            .asLong()
                                                                    / 1000 + " s old (stale)"
                                                    : ", no figures")
                                            + ": " + source.path("error").asText());
                }
                out.print(table);
            }
            out.flush();
            return 0;
        }

        /** What went wrong, in words: HttpClient's ConnectException for a refused connection has no message at all. */
        private static String why(IOException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t.getMessage() != null) {
                    return t.getMessage();
                }
            }
            return e instanceof ConnectException
                    ? "connection refused: nothing listens there"
                    : e.getClass().getSimpleName();
        }
    }
}
