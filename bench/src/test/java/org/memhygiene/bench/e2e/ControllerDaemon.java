package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bin/memhygiene run} as an admin runs it, for the phases that measure the daemon: started with
 * the suite's configuration, its pid left in the fixture's state directory (e2e/run.sh stops it should
 * the suite die), asked through its API on loopback, stopped with SIGTERM (its shutdown puts back the
 * knobs a reclaim boost holds). With a meminfo file the daemon runs in a mount namespace of its own where
 * /proc/meminfo is that file (the tuner comparison's tight memory).
 */
final class ControllerDaemon implements AutoCloseable {
    /** Samples the daemon may take before its agents must all answer: events, not seconds. */
    private static final int SAMPLES_FOR_AGENTS = 60;

    /**
     * Samples the daemon may take before every named VM has a whole pass of its guest memory: its default budget
     * (2 ms or 131,072 pages a sample) reads the suite's three guests of 512 MiB in 4–19 samples on a quiet
     * machine; the time limit binds first on a loaded one (beside a build, 60 samples were not enough for one
     * pass of each), so this allows a machine 30 times slower. Events, not seconds.
     */
    private static final int SAMPLES_FOR_GUEST_MEMORY = 600;

    private final Process process;
    private final Path pidFile;
    private final int port;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ObjectMapper json = new ObjectMapper();

    private ControllerDaemon(Process process, Path pidFile, int port) {
        this.process = process;
        this.pidFile = pidFile;
        this.port = port;
    }

    /**
     * Writes {@code memhygiene.yaml} into {@code dir} (libvirt qemu:///system, the API on a free loopback
     * port, history in {@code dir}, {@code policyYaml} as the policy file) and starts the daemon on it.
     */
    static ControllerDaemon start(
            RealVmFixture fixture, Path dir, String name, String policyYaml, Optional<Path> meminfo)
            throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path policy = dir.resolve(name + "-policy.yaml");
        Files.writeString(policy, policyYaml);
        Path config = dir.resolve(name + ".yaml");
        Files.writeString(
                config,
                "libvirt_uri: " + Guest.URI + "\nagent_timeout: 10s\npolicy_file: " + policy + "\napi:\n  port: " + port
                        + "\nhistory:\n  path: " + dir.resolve(name + "-history") + "\n");
        List<String> command = new ArrayList<>();
        String launcher = fixture.command().launcher().toString();
        if (meminfo.isPresent()) {
            command.addAll(List.of(
                    "unshare",
                    "-m",
                    "--",
                    "sh",
                    "-c",
                    "mount --bind \"$0\" /proc/meminfo && exec \"$1\" run --config \"$2\"",
                    meminfo.get().toString(),
                    launcher,
                    config.toString()));
        } else {
            command.addAll(List.of(launcher, "run", "--config", config.toString()));
        }
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(logFile(dir, name).toFile())
                .start();
        Path pidFile = fixture.host().state().resolve(name + ".pid");
        Files.writeString(pidFile, Long.toString(process.pid()));
        log("%s: started (pid %d, API on 127.0.0.1:%d, log %s)", name, process.pid(), port, logFile(dir, name));
        return new ControllerDaemon(process, pidFile, port);
    }

    static Path logFile(Path dir, String name) {
        return dir.resolve(name + ".log");
    }

    /** Waits until the daemon's sample shows every named VM's agent OK; fails after {@link #SAMPLES_FOR_AGENTS} samples. */
    void awaitAgents(List<String> vms) throws Exception {
        String missing = "no sample yet";
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "the daemon exited (" + process.exitValue() + ") before its agents answered: " + missing);
            }
            Optional<JsonNode> status = tryGet("/api/v1/status");
            long samples = status.map(s -> s.path("samples").asLong()).orElse(0L);
            if (samples > 0) {
                JsonNode doc = get("/api/v1/vms");
                List<String> notOk = new ArrayList<>();
                for (String vm : vms) {
                    String agent = vm(doc, vm)
                            .map(v -> v.path("agent").path("status").asText())
                            .orElse("absent");
                    if (!agent.equals("OK")) {
                        notOk.add(vm + " " + agent);
                    }
                }
                if (notOk.isEmpty()) {
                    return;
                }
                missing = "after " + samples + " samples: " + notOk;
                if (samples >= SAMPLES_FOR_AGENTS) {
                    throw new IllegalStateException("the daemon's agents did not all answer " + missing);
                }
            }
            Thread.sleep(500);
        }
    }

    /** Waits for the next sample to be taken, so a document read after it is at least that fresh. */
    void awaitNextSample() throws Exception {
        long now = get("/api/v1/status").path("samples").asLong();
        while (get("/api/v1/status").path("samples").asLong() <= now) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the daemon exited (" + process.exitValue() + ")");
            }
            Thread.sleep(200);
        }
    }

    /**
     * Each named VM's {@code guest_memory} (docs/CLI.md, "vm show --json") from a pass that began at or after
     * {@code notBefore}; waits for it, failing after {@link #SAMPLES_FOR_GUEST_MEMORY} samples without one.
     */
    Map<String, JsonNode> guestMemory(List<String> vms, Instant notBefore) throws Exception {
        long firstSample = get("/api/v1/status").path("samples").asLong();
        while (true) {
            JsonNode doc = get("/api/v1/vms");
            Map<String, JsonNode> found = new LinkedHashMap<>();
            List<String> waiting = new ArrayList<>();
            for (String name : vms) {
                JsonNode memory = vm(doc, name).map(v -> v.path("guest_memory")).orElse(null);
                if (memory != null
                        && memory.hasNonNull("pass_started_at")
                        && !Instant.parse(memory.get("pass_started_at").asText())
                                .isBefore(notBefore)) {
                    found.put(name, memory);
                } else {
                    waiting.add(name
                            + (memory == null || memory.isNull()
                                    ? " (not measured yet)"
                                    : " (measured "
                                            + memory.path("pass_started_at").asText() + ")"));
                }
            }
            if (waiting.isEmpty()) {
                return found;
            }
            long samples = get("/api/v1/status").path("samples").asLong();
            if (samples - firstSample >= SAMPLES_FOR_GUEST_MEMORY) {
                throw new IllegalStateException("no guest memory pass from " + notBefore + " on after "
                        + (samples - firstSample) + " samples: " + waiting);
            }
            awaitNextSample();
        }
    }

    /** The daemon's recorded decisions that are its reclaim boost's, each as its JSON on one line. */
    List<String> boostDecisions() throws Exception {
        List<String> boost = new ArrayList<>();
        for (JsonNode d : get("/api/v1/history/decisions").path("decisions")) {
            if (d.path("reason").asText().startsWith("reclaim boost")) {
                boost.add(d.toString());
            }
        }
        return boost;
    }

    /** {@code POST /api/v1/vms/NAME/scrub}: the agent's report (docs/API.md); the policy learns of it. */
    JsonNode scrub(String vm) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(uri("/api/v1/vms/" + vm + "/scrub"))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofMinutes(11))
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(
                    "POST /api/v1/vms/" + vm + "/scrub: HTTP " + r.statusCode() + " " + r.body());
        }
        return json.readTree(r.body());
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(uri(path)).timeout(Duration.ofMinutes(1)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return json.readTree(r.body());
    }

    private Optional<JsonNode> tryGet(String path) {
        try {
            return Optional.of(get(path));
        } catch (Exception e) {
            return Optional.empty(); // not listening yet
        }
    }

    /** The VM's entry of a {@code /api/v1/vms} document, by domain name. */
    static Optional<JsonNode> vm(JsonNode vmsDocument, String name) {
        for (JsonNode v : vmsDocument.path("vms")) {
            if (v.path("domain").path("name").asText().equals(name)) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    @Override
    public void close() throws Exception {
        process.destroy(); // SIGTERM: the shutdown hook ends a reclaim boost and writes its knobs back
        process.waitFor();
        Files.deleteIfExists(pidFile);
    }
}
