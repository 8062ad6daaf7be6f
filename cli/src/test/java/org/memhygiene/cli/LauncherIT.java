package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.OperatingSystemMXBean;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.cli.ProcessRun;
import org.memhygiene.core.json.Json;

/** bin/memhygiene from the packaged jars, started from an unrelated working directory. */
class LauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("bin/memhygiene");

    @TempDir
    Path elsewhere;

    private ProcessRun launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        return ProcessRun.of(command, elsewhere);
    }

    @Test
    void runsTheCliFromAnyDirectory() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/kernel/mm/ksm")), "skipped: kernel without KSM");
        ProcessRun status = launch("ksm", "status", "--json");
        assertEquals(0, status.exitCode(), status.err());
        JsonNode json = Json.mapper().readTree(status.out());
        assertTrue(json.at("/stats/run").isNumber(), status.out());
        assertTrue(launch("ksm", "status").out().contains("pages_sharing"));
    }

    @Test
    void restoreOnExitPutsKnobsBackWhenInterrupted() throws Exception {
        Path ksm = Files.createDirectories(elsewhere.resolve("ksm"));
        Files.writeString(ksm.resolve("pages_to_scan"), "100\n");
        Files.writeString(ksm.resolve("run"), "0\n");
        Process watch = new ProcessBuilder(
                        LAUNCHER.toString(),
                        "ksm",
                        "watch",
                        "--sysfs-root",
                        ksm.toString(),
                        "--interval",
                        "100ms",
                        "--set",
                        "pages_to_scan=777",
                        "--restore-on-exit")
                .directory(elsewhere.toFile())
                .redirectErrorStream(true)
                .start();
        watch.getOutputStream().close();
        var out = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("TIME")) {
            // wait until the knobs are set and the watch has started
        }
        assertEquals("777", Files.readString(ksm.resolve("pages_to_scan")).strip());
        // SIGINT, as Ctrl-C sends it (the launcher execs java, so the pid is the JVM's).
        new ProcessBuilder("kill", "-INT", Long.toString(watch.pid())).start().waitFor();
        assertTrue(watch.waitFor(30, TimeUnit.SECONDS), "the watch ends on SIGINT");
        assertEquals("100", Files.readString(ksm.resolve("pages_to_scan")).strip(), "restored by the shutdown hook");
    }

    @Test
    void versionIsTheJarsImplementationVersion() throws Exception {
        String version = System.getProperty("memhygiene.version");
        assertNotNull(version, "the build passes memhygiene.version (pom.xml, failsafe)");
        ProcessRun run = launch("--version");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("memhygiene " + version, run.out().strip());
    }

    @Test
    void runsTheDaemonOnAScenarioFromTheSimulator() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path config = Files.writeString(
                elsewhere.resolve("memhygiene.yaml"),
                "api:\n  port: " + port + "\nhistory:\n  path: " + elsewhere.resolve("history") + "\n");
        Path scenario = LAUNCHER.getParent().getParent().resolve("docs/scenarios/web-farm.yaml");
        Process daemon = new ProcessBuilder(
                        LAUNCHER.toString(), "run", "--scenario", scenario.toString(), "--config", config.toString())
                .directory(elsewhere.toFile())
                .redirectErrorStream(true)
                .redirectOutput(elsewhere.resolve("daemon.log").toFile())
                .start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            JsonNode status = null;
            for (int i = 0; i < 300 && status == null && daemon.isAlive(); i++) {
                try {
                    status = Json.mapper()
                            .readTree(http.send(
                                            HttpRequest.newBuilder(
                                                            URI.create("http://127.0.0.1:" + port + "/api/v1/status"))
                                                    .build(),
                                            HttpResponse.BodyHandlers.ofString())
                                    .body());
                } catch (IOException e) {
                    Thread.sleep(100); // not listening yet
                }
            }
            assertNotNull(status, "the daemon never answered: " + Files.readString(elsewhere.resolve("daemon.log")));
            assertTrue(status.get("backend").asText().startsWith("simulator: scenario 'web-farm'"), status.toString());
            assertEquals("simulator", status.at("/sources/2/name").asText(), status.toString());
            assertTrue(status.at("/sources/2/up").asBoolean(), status.toString());
        } finally {
            daemon.destroy(); // SIGTERM
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the daemon stops on SIGTERM");
        }
    }

    @Test
    void usageErrorsExitWithTwo() throws Exception {
        ProcessRun bad = launch("ksm", "set", "run=9");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("invalid value '9' for KSM knob run"), bad.err());
        assertEquals(2, launch("no-such-command").exitCode());
    }

    @Test
    void everyShippedScenarioRunsWithTheDocumentedCommandAlone() throws Exception {
        Path scenarios = LAUNCHER.getParent().getParent().resolve("docs/scenarios");
        List<Path> files;
        try (var list = Files.list(scenarios)) {
            files = list.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.stream().anyMatch(f -> f.endsWith("host-64x4g.yaml")), files.toString());
        for (Path file : files) {
            // No MEMHYGIENE_JAVA_OPTS: the launcher sizes the heap from the scenario (docs/SIMULATOR.md, "Heap").
            ProcessRun run = ProcessRun.of(
                    List.of(LAUNCHER.toString(), "sim", "run", file.toString(), "--duration", "20s", "--every", "20s"),
                    elsewhere,
                    Map.of("MEMHYGIENE_JAVA_OPTS", ""));
            assertEquals(0, run.exitCode(), file + ": " + run.err());
            assertTrue(run.out().contains("resident"), run.out());
        }
    }

    @Test
    void aScenarioBeyondThreeQuartersOfTheMachineIsRefusedBeforeItStarts() throws Exception {
        long machine = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        // 300 guests of 24 GiB: 1.9 G pages of 4 KiB, about 23 GiB of page arrays.
        Assumptions.assumeTrue(
                machine < 30L << 30, "skipped: this machine has " + (machine >> 30) + " GiB, enough for it");
        Path big = Files.writeString(
                elsewhere.resolve("big.yaml"), "name: big\nguests: [{name: g, count: 300, memory: 24GiB}]\n");
        ProcessRun run = ProcessRun.of(
                List.of(LAUNCHER.toString(), "sim", "run", big.toString()),
                elsewhere,
                Map.of("MEMHYGIENE_JAVA_OPTS", ""));
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(
                run.err().contains("big.yaml needs about") && run.err().contains("more than 3/4 of this machine's"),
                run.err());
    }
}
