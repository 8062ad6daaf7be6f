package org.memhygiene.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Ask the running daemon how it is doing: backend, samples, failures, last sample.")
final class DaemonStatusCommand implements Callable<Integer> {
    @Mixin
    JsonOutput output;

    @Option(names = "--api", paramLabel = "URL", description = "The daemon's API (default: ${DEFAULT-VALUE}).")
    URI api = URI.create("http://127.0.0.1:" + DaemonConfig.DEFAULT_PORT);

    @Override
    public Integer call() throws IOException, InterruptedException {
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
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
        PrintWriter out = output.out();
        if (output.json()) {
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
                            + s.path("last_sample_millis").asText(CommandOutput.MISSING) + " ms)");
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
