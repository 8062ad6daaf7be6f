package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.cli.HostCli;
import org.memhygiene.core.json.Json;
import picocli.CommandLine;

/**
 * `memhygiene run` as an admin starts it, in its own process, on libvirt's test driver and this
 * machine's real KSM (a test:/// URI is local), asked by `memhygiene status` and over HTTP; stopped by
 * SIGTERM like systemd stops it.
 */
class DaemonRunTest {
    @TempDir
    Path dir;

    @Test
    void runServesSnapshotsWithThisMachinesKsmAndStatusReportsIt() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path config = Files.writeString(
                dir.resolve("memhygiene.yaml"),
                "libvirt_uri: \"test:///default\"\ninterval: 200ms\ndry_run: true\napi:\n  port: " + port
                        + "\nhistory:\n  path: " + dir.resolve("state/history") + "\n");
        // Started with a permissive umask, as from a shell: what the daemon creates is private all the same.
        Process daemon = new ProcessBuilder(
                        "sh",
                        "-c",
                        "umask 022 && exec \"$@\"",
                        "sh",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        HostCli.class.getName(),
                        "run",
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("daemon.log").toFile())
                .start();
        String reason;
        try {
            URI base = URI.create("http://127.0.0.1:" + port);
            HttpClient http = HttpClient.newHttpClient();
            JsonNode snapshot = null;
            for (int i = 0; i < 150 && snapshot == null; i++) {
                try {
                    HttpResponse<String> response = http.send(
                            HttpRequest.newBuilder(base.resolve("/api/v1/snapshot"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        snapshot = Json.mapper().readTree(response.body());
                    }
                } catch (IOException e) {
                    Thread.sleep(100); // not listening yet
                }
            }
            assertTrue(
                    snapshot != null,
                    "the daemon never served a snapshot: " + Files.readString(dir.resolve("daemon.log")));
            assertEquals("test", snapshot.at("/vms/0/domain/name").asText());
            if (Files.isDirectory(Path.of("/sys/kernel/mm/ksm"))) {
                long pagesToScan = Long.parseLong(Files.readString(Path.of("/sys/kernel/mm/ksm/pages_to_scan"))
                        .strip());
                assertEquals(
                        pagesToScan, snapshot.at("/ksm/stats/pages_to_scan").asLong(), "this machine's KSM");
            }
            assertTrue(snapshot.at("/memory/mem_total_bytes").asLong() > 0);

            JsonNode history = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/history"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertTrue(history.get("points").size() >= 1, "the loop records every sample: " + history);
            assertEquals(
                    400,
                    http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/history?from=yesterday"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode());
            assertTrue(Files.exists(dir.resolve("state/history.mv.db")));
            assertEquals(
                    "rwx------",
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))),
                    "the state directory it created");
            assertEquals(
                    "rw-------",
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state/history.mv.db"))));
            // The adaptive policy decided on the first sample; a dry run writes nothing (this is the real KSM).
            JsonNode decisions = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/decisions"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertEquals("adaptive", decisions.at("/0/decision/mode").asText(), decisions.toString());
            assertTrue(decisions.at("/0/outcome").asText().matches("nothing to do|dry run.*"), decisions.toString());
            reason = decisions.at("/0/decision/reason").asText();
            JsonNode recorded = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/history/decisions"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertEquals(
                    reason, recorded.at("/decisions/0/reason").asText(), "the decision is in the history: " + recorded);
            assertTrue(
                    history.at("/points/0/posture_score").isInt(),
                    "the host's posture score is in the history: " + history);
            JsonNode policy = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/policy"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertEquals("adaptive", policy.get("mode").asText());
            assertTrue(policy.get("dry_run").asBoolean(), policy.toString());
            JsonNode posture = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/posture"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertEquals("test", posture.at("/vms/0/name").asText(), posture.toString());
            assertTrue(
                    posture.at("/host/findings").findValuesAsText("evidence").stream()
                            .anyMatch(e -> e.startsWith("/proc/swaps")),
                    "the daemon on a local URI reads this machine's swaps: " + posture);

            StringWriter out = new StringWriter();
            CommandLine cli = HostCli.commandLine();
            cli.setOut(new PrintWriter(out));
            assertEquals(0, cli.execute("status", "--api", base.toString()));
            assertTrue(out.toString().contains("libvirt test:///default"), out.toString());
            assertTrue(
                    out.toString().lines().anyMatch(l -> l.startsWith("samples / failures") && l.endsWith("/ 0")),
                    out.toString());
            for (String source : new String[] {"host_memory", "libvirt"}) {
                assertTrue(
                        out.toString()
                                .lines()
                                .anyMatch(l -> l.startsWith("source " + source)
                                        && l.strip().endsWith(" up")),
                        "each source and its state: " + out);
            }
        } finally {
            daemon.destroy(); // SIGTERM
            assertTrue(daemon.waitFor(20, TimeUnit.SECONDS), "the daemon stops on SIGTERM");
        }
        // What memhygiene.service's SuccessExitStatus= names: a clean stop, after the shutdown hook ran.
        assertEquals(143, daemon.exitValue(), Files.readString(dir.resolve("daemon.log")));
        assertTrue(
                Files.readString(dir.resolve("daemon.log")).contains("memhygiene: daemon on libvirt test:///default"));
        String log = Files.readString(dir.resolve("daemon.log"));
        assertTrue(log.contains("adaptive policy every 60 s (dry run)"));
        // --dry-run prints each decision with its reason (and what it would write).
        assertTrue(
                log.lines().anyMatch(l -> l.contains("adaptive: ") && l.contains(reason)),
                "the decision and its reason: " + log);
        // A record is one line, the journal's one entry: time with its offset, level, logger, message (the
        // JDK's default gave two, the locale's date and the logger on the first, the level on the second).
        assertTrue(
                log.lines()
                        .anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d[+-]\\d{4} INFO"
                                        + " org\\.memhygiene\\.controller\\.daemon\\.PolicyStep: adaptive: .*")
                                && l.contains(reason)),
                "the decision's record on one line: " + log);
    }

    @Test
    void statusWithoutADaemonSaysSoAndHowToStartOne() {
        StringWriter err = new StringWriter();
        CommandLine cli = HostCli.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("status", "--api", "http://127.0.0.1:9"));
        assertTrue(err.toString().contains("no daemon answers at http://127.0.0.1:9"), err.toString());
        assertTrue(err.toString().contains("memhygiene run"), err.toString());
        // Port 1: HttpClient's ConnectException has no message; the answer used to end in "(null)".
        StringWriter refused = new StringWriter();
        CommandLine again = HostCli.commandLine();
        again.setErr(new PrintWriter(refused));
        assertEquals(1, again.execute("status", "--api", "http://127.0.0.1:1"));
        assertTrue(
                refused.toString()
                        .contains("no daemon answers at http://127.0.0.1:1 (connection refused: nothing listens"
                                + " there); start it with 'memhygiene run'"),
                refused.toString());
    }
}
