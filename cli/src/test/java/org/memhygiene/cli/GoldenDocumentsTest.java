package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.api.LoopbackApi;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.libvirt.LibvirtDaemon;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.MergeableMemoryChild;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.simulator.SimulatedHost;
import picocli.CommandLine;

/**
 * Every document of docs/API.md and docs/CLI.md against its golden file (src/test/resources/golden): the
 * shape of the document ({@link JsonShape}: keys and types, not values) must be the file's, so a field
 * renamed, dropped, added or of another type fails here until the golden file and the docs say so. The
 * API's documents come from a daemon on the simulator's built-in host, the CLI's from this machine's KSM
 * and libvirt's test driver (test:///default); `ksm top` from a real process that ksmd scanned, `node-memory`
 * from a real libvirtd (the test driver does not answer it); `vm scrub` and `agent ping` ask a real agent's server
 * (TestAgent) behind a test-driver domain's channel. The simulator's `sim run` and `sim sweep --out FILE.json` rows are checked
 * the same way, their keys against docs/SIMULATOR.md. Every top-level key of an API document must be named in
 * docs/API.md (or docs/CLI.md, where the API's document is the CLI's), of a CLI document in docs/CLI.md. {@code -Dgolden.update=true} writes the files anew.
 */
@ExtendWith(KsmHostLock.class) // theHostsDocumentsKeepTheirShape runs ksmd, and puts its knobs back
class GoldenDocumentsTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final Path DOCS = Path.of("..", "docs");
    private static final boolean UPDATE = Boolean.getBoolean("golden.update");
    /** A bound in the daemon's own progress: samples taken while waiting for every document to have content. */
    private static final long MAX_SAMPLES = 600;

    /**
     * Objects whose keys are data: a decision's knobs (which it writes), a sweep cell's, a KSM directory's unknown
     * or unreadable files.
     */
    private static final Set<String> MAPS =
            Set.of("decision.ksm", "decisions[].ksm", "settings", "unknown_files", "unreadable_files");

    private static final String ALL_TIMES = "from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z";

    @Test
    void theApisDocumentsKeepTheirShape(@TempDir Path dir) throws Exception {
        Map<String, JsonNode> documents = new LinkedHashMap<>();
        try (Daemon daemon = Daemon.start(
                SimulatedHost.builtin(Clock.systemUTC(), 120),
                SimulatedHostDaemonTest.settings(dir, Duration.ofMillis(100)),
                true,
                Clock.systemUTC())) {
            int port = daemon.apiPort();
            // A deduplication probe, so the posture's VMs carry measured_at and its own document has a report.
            daemon.probes().start(DedupProbeRequest.of(List.of(), 16));
            long samples = 0;
            while (!complete(documents) && samples < MAX_SAMPLES) {
                Thread.sleep(100);
                documents.put("probes-dedup", get(port, "/api/v1/probes/dedup"));
                documents.put("status", get(port, "/api/v1/status"));
                documents.put("snapshot", get(port, "/api/v1/snapshot"));
                documents.put("vms", get(port, "/api/v1/vms"));
                documents.put("posture", get(port, "/api/v1/posture"));
                documents.put("policy", get(port, "/api/v1/policy"));
                documents.put("settings", get(port, "/api/v1/settings"));
                documents.put("decisions", get(port, "/api/v1/decisions"));
                // The simulated host's clock runs ahead of this one: ask for every time it can hold.
                documents.put("history", get(port, "/api/v1/history?" + ALL_TIMES));
                documents.put("history-decisions", get(port, "/api/v1/history/decisions?" + ALL_TIMES));
                samples = documents.get("status").path("samples").asLong();
            }
            String vm = documents.get("vms").at("/vms/0/domain/name").asText();
            documents.put("vm", get(port, "/api/v1/vms/" + vm));
            documents.put("history-vm", get(port, "/api/v1/history?vm=" + vm + "&" + ALL_TIMES));
        }
        assertTrue(
                complete(documents),
                "within " + MAX_SAMPLES + " samples every document had content; arrays: vms "
                        + documents.get("vms").path("vms").size() + ", decisions "
                        + documents.get("decisions").size() + ", last_decision "
                        + !documents.get("policy").path("last_decision").isNull() + ", history "
                        + documents.get("history").path("points").size() + ", history decisions "
                        + documents.get("history-decisions").path("decisions").size());
        assertTrue(documents.get("history-vm").path("points").size() > 0, "points of one VM's history");
        // docs/API.md names the documents it shares with the CLI by the CLI's (`as ksm status --json's stats`).
        check("api", documents, Files.readString(DOCS.resolve("API.md")) + Files.readString(DOCS.resolve("CLI.md")));
    }

    /** Every array a golden file describes has at least one element, so its elements' shape is known. */
    private static boolean complete(Map<String, JsonNode> documents) {
        return !documents.isEmpty()
                && documents.get("vms").path("vms").size() > 0
                && documents.get("decisions").size() > 0
                && !documents.get("policy").path("last_decision").isNull()
                && documents.get("history").path("points").size() > 0
                && documents.get("history-decisions").path("decisions").size() > 0
                && documents.get("probes-dedup").path("status").asText().equals("done")
                && !documents.get("posture").at("/vms/0/measured_at").isNull();
    }

    @Test
    void theClisDocumentsKeepTheirShape(@TempDir Path dir) throws Exception {
        Map<String, JsonNode> documents = new LinkedHashMap<>();
        documents.put("ksm-status", cli("ksm", "status", "--json"));
        documents.put("ksm-watch", cli("ksm", "watch", "--json", "--count=1"));
        if (Files.isWritable(Path.of("/sys/kernel/mm/ksm/pages_to_scan"))) {
            // --dry-run: what it would write, nothing written.
            documents.put("ksm-set", cli("ksm", "set", "--dry-run", "--json", "pages_to_scan=100"));
        } else {
            System.out.println(
                    "GoldenDocumentsTest: ksm set --json not checked: /sys/kernel/mm/ksm is not writable here");
        }
        documents.put("vms", cli("vms", "--json", "--uri", "test:///default"));
        documents.put("vm-show", cli("vm", "show", "test", "--json", "--uri", "test:///default"));
        documents.put("posture", cli("posture", "--json", "--uri", "test:///default"));
        // A real agent (TestAgent: the agent's server, this machine's /proc) behind a test-driver domain's channel.
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel agent =
                TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "golden-agent", scheduler)) {
            String uri = new TestDriverHost()
                    .domain("guest", true, Optional.of(socket), false)
                    .write(dir.resolve("agent-host.xml"));
            documents.put("agent-ping", cli("agent", "ping", "guest", "--json", "--uri", uri));
            // The agent plants, times and releases a real canary; the test driver has no QEMU process to read.
            documents.put(
                    "probe-dedup",
                    cli(
                            "probe",
                            "dedup",
                            "--vm",
                            "guest",
                            "--json",
                            "--pages",
                            "16",
                            "--full-scans",
                            "1",
                            "--deadline",
                            "30s",
                            "--uri",
                            uri));
            // One MiB: the scrubber is real, and zeroes memory of this machine.
            documents.put("vm-scrub", cli("vm", "scrub", "guest", "--json", "--max-bytes", "1M", "--uri", uri));
        } finally {
            scheduler.shutdownNow();
        }
        // The simulator's rows (docs/SIMULATOR.md): two simulated minutes of a shipped scenario, and its sweep.
        String scenario = DOCS.resolve("scenarios/idle-guests.yaml").toString();
        documents.put(
                "sim-run",
                cliFile(dir.resolve("run.json"), "sim", "run", scenario, "--duration", "2m", "--every", "1m"));
        documents.put("sim-sweep", cliFile(dir.resolve("sweep.json"), "sim", "sweep", scenario, "--duration", "1m"));
        check(
                "cli",
                documents,
                Files.readString(DOCS.resolve("CLI.md")) + Files.readString(DOCS.resolve("SIMULATOR.md")));
    }

    /**
     * The documents only a real host gives: {@code ksm top --json} lists a real child process once ksmd has
     * scanned its mergeable pages (run=1 and a fast scan for that long; every knob put back, also on failure),
     * {@code node-memory --json} asks a real libvirtd (qemu:///system; the test driver does not answer it).
     */
    @Test
    void theHostsDocumentsKeepTheirShape() throws Exception {
        Path ksm = KsmSysfs.DEFAULT_ROOT;
        Assumptions.assumeTrue(
                Files.isWritable(ksm.resolve("run")) && Files.exists(Path.of("/proc/self/ksm_stat")),
                "GoldenDocumentsTest ksm top and node-memory skipped: they need root, KSM and /proc/PID/ksm_stat"
                        + " (Linux 6.1+)");
        Map<String, JsonNode> documents = new LinkedHashMap<>();
        KsmSysfs sysfs = new KsmSysfs(ksm, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        KsmSettings scan = KsmSettings.parse(List.of("run=1", "pages_to_scan=5000", "sleep_millisecs=10"));
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, scan);
        Thread hook = restorePoint.restoreOnShutdown();
        Process child = MergeableMemoryChild.start(256, 0);
        try {
            sysfs.apply(scan);
            // ksmd visits every mergeable page once per full scan: two full scans after the child was ready,
            // its ksm_stat has rmap_items.
            long fullScans = sysfs.read().fullScans().orElseThrow() + 2;
            ProcessKsmReader processes = new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT);
            while (processes
                    .read((int) child.pid())
                    .filter(p -> p.rmapItems().orElse(0) > 0)
                    .isEmpty()) {
                assertTrue(
                        sysfs.read().fullScans().orElseThrow() < fullScans,
                        "two full scans and ksmd did not track the child: " + processes.read((int) child.pid()));
                Thread.sleep(50);
            }
            documents.put("ksm-top", cli("ksm", "top", "--json"));
        } finally {
            child.getOutputStream().close();
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            restorePoint.restore();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        Optional<LibvirtDaemon> libvirtd = LibvirtDaemon.ensure("GoldenDocumentsTest node-memory");
        if (libvirtd.isPresent()) {
            try {
                documents.put("node-memory", cli("node-memory", "--json", "--uri", "qemu:///system"));
            } finally {
                libvirtd.get().close();
            }
        }
        check("cli", documents, Files.readString(DOCS.resolve("CLI.md")));
    }

    private static void check(String kind, Map<String, JsonNode> documents, String docs) throws Exception {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, JsonNode> document : documents.entrySet()) {
            JsonNode shape = JsonShape.of(document.getValue(), MAPS);
            Path file = GOLDEN.resolve(kind).resolve(document.getKey() + ".json");
            if (UPDATE) {
                Files.createDirectories(file.getParent());
                Files.writeString(
                        file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(shape) + "\n");
                continue;
            }
            assertTrue(Files.exists(file), file + " is missing: run with -Dgolden.update=true to write it");
            for (String difference : JsonShape.differences(Json.mapper().readTree(file.toFile()), shape)) {
                problems.add(kind + " " + document.getKey() + ": " + difference);
            }
            // A document that is an array of rows (sim run, sim sweep): its rows' keys.
            JsonNode named = document.getValue().isArray() ? document.getValue().path(0) : document.getValue();
            if (named.isObject()) {
                for (Iterator<String> keys = named.fieldNames(); keys.hasNext(); ) {
                    String key = keys.next();
                    if (!docs.contains("`" + key + "`") && !docs.contains("\"" + key + "\"")) {
                        problems.add(kind + " " + document.getKey() + ": key " + key + " is not in the docs");
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            fail("the documents departed from their golden files (" + GOLDEN.toAbsolutePath() + ") or their docs:\n"
                    + String.join("\n", problems));
        }
        assertFalse(UPDATE, "golden files written anew under " + GOLDEN.toAbsolutePath() + ": review and commit them");
    }

    private static JsonNode get(int port, String path) throws Exception {
        return Json.mapper().readTree(LoopbackApi.getOk(port, path));
    }

    /** The document a command writes to {@code out} (its --out), the command run with {@code --out out} added. */
    private static JsonNode cliFile(Path out, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--out", out.toString()));
        StringWriter err = new StringWriter();
        CommandLine cli = MemhygieneCli.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(all.toArray(String[]::new)), String.join(" ", all) + ": " + err);
        JsonNode rows = Json.mapper().readTree(out.toFile());
        assertTrue(rows.size() > 0, String.join(" ", all) + " wrote no rows");
        return rows;
    }

    private static JsonNode cli(String... args) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = MemhygieneCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(args), String.join(" ", args) + ": " + err);
        return Json.mapper().readTree(out.toString());
    }
}
