package org.memhygiene.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.cli.HostCli;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.probe.ProbeRunner;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * The reclaimed figure and its breakdown in every document that shows a VM: `vms --json`, `vms`, `vm show`,
 * GET /api/v1/vms/NAME, GET /api/v1/snapshot and the live stream. A real process stands in for the QEMU of
 * test-driver domain "web" (its pid file in a directory of the test's, `--qemu-pid-dir`).
 */
class GuestMemoryApiTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    /** The pages read, never written: zero-mapped, or resident where a read fault maps no zero page. */
    private static final long ZERO = ZeroPageOnRead.mapsZeroPage() ? 1500 : 0;

    private static final long RAM_PAGES = (1024L << 20) / PAGE;

    @TempDir
    Path dir;

    private GuestRamChild qemu;
    private String uri;
    private Path pids;
    private LinuxHost host;
    private SnapshotLoop loop;
    private PolicyStep policy;
    private ApiServer api;

    @BeforeEach
    void web() throws Exception {
        qemu = GuestRamChild.start("-name", "guest=web");
        qemu.map(RAM_PAGES, false);
        qemu.unique(0, 0, 500, 1);
        qemu.read(0, 500, 1500); // zero-mapped: reclaimed; resident where a read fault maps no zero page
        pids = Files.createDirectories(dir.resolve("pids"));
        Files.writeString(pids.resolve("web.pid"), Integer.toString(qemu.pid()));
        uri = new TestDriverHost()
                .domain("web", true, Optional.empty(), false)
                .domain("other", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
    }

    @AfterEach
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
        if (loop != null) {
            loop.close();
        }
        if (policy != null) {
            policy.close();
        }
        if (host != null) {
            host.close();
        }
        qemu.close();
    }

    private String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = HostCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(args), err.toString());
        return out.toString();
    }

    @Test
    void theVmCommandsPrintTheReclaimedFigureItsBreakdownAndHowItWasMeasured() throws Exception {
        JsonNode json = Json.mapper().readTree(cli("vms", "--uri", uri, "--qemu-pid-dir", pids.toString(), "--json"));
        JsonNode web = vm(json, "web");
        assertEquals(ZERO * PAGE, web.get("reclaimed_bytes").asLong(), web.toString());
        assertTrue(web.get("reclaimed_method").asText().startsWith("pagemap_scan"), web.toString());
        JsonNode guest = web.get("guest_memory");
        assertEquals(qemu.pid(), guest.get("pid").asInt());
        assertEquals(RAM_PAGES, guest.get("guest_ram_pages").asLong());
        assertEquals(ZERO, guest.at("/pages/zero").asLong());
        assertEquals(2000 - ZERO, guest.at("/pages/resident").asLong());
        assertEquals(0, guest.at("/pages/given_back").asLong());
        assertEquals(ZERO, guest.get("reclaimed_pages").asLong());
        assertEquals(ZERO * PAGE, guest.get("reclaimed_bytes").asLong());
        assertEquals(
                web.get("reclaimed_method").asText(),
                guest.get("method_description").asText());
        assertTrue(guest.get("method_label").asText().startsWith("pagemap_scan"), guest.toString());
        for (String key : List.of("measured_at", "pass_started_at", "work_millis", "process_rss_pages", "reason")) {
            assertTrue(guest.has(key), key + " in " + guest);
        }
        JsonNode other = vm(json, "other");
        assertTrue(
                other.get("reclaimed_bytes").isNull()
                        && other.get("guest_memory").isNull()
                        && other.get("reclaimed_method").isNull(),
                "no QEMU process: null, never 0: " + other);
        assertTrue(other.has("ksm_saved_bytes") && other.has("zero_page_bytes"), "the ksm_stat keys stay: " + other);

        String table = cli("vms", "--uri", uri, "--qemu-pid-dir", pids.toString());
        String header =
                table.lines().filter(l -> l.startsWith("NAME")).findFirst().orElseThrow();
        for (String column :
                List.of("RECLAIMED", "ZERO", "GIVEN BACK", "KSM SAVED", "HOW", "KSM_STAT SAVED", "KSM_STAT ZERO")) {
            assertTrue(header.contains(column), column + " in " + header);
        }
        String row = table.lines().filter(l -> l.startsWith("web ")).findFirst().orElseThrow();
        assertTrue(
                row.contains(ZERO == 0 ? " 0 B " : String.format(Locale.ROOT, "%.1f MiB", ZERO * PAGE / 1048576.0))
                        && row.contains("[1] "),
                row);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("[1] pagemap_scan") && l.endsWith(": web")), table);

        String show = cli("vm", "show", "web", "--uri", uri, "--qemu-pid-dir", pids.toString());
        assertTrue(
                show.lines().anyMatch(l -> l.startsWith("guest memory: method") && l.contains("pagemap_scan")), show);
        assertTrue(
                show.lines()
                        .anyMatch(l -> l.startsWith("reclaimed (zero once backed + given back)")
                                && l.contains("of 1.0 GiB guest RAM")),
                show);
        assertTrue(show.lines().anyMatch(l -> l.startsWith("  zero page (of it never backed) / huge zero page")), show);
        assertTrue(show.lines().anyMatch(l -> l.startsWith("  not present (of it given back)")), show);
        assertTrue(show.lines().anyMatch(l -> l.startsWith("ksm_stat: merging / zero pages")), show);
        String second = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ";
        assertTrue(
                show.lines()
                        .anyMatch(l -> l.matches("guest memory: measured +" + second + " \\(\\d+ s before the sample;"
                                + " the pass took \\d+ ms from " + second + "\\)")),
                "the times to the second: " + show);
    }

    @Test
    void theApiDocumentsAndTheStreamCarryIt() throws Exception {
        host = new LinuxHost(
                uri,
                Duration.ofSeconds(2),
                Duration.ZERO,
                SysfsTree.create(dir).root(),
                Path.of("/proc"),
                Path.of("/sys"),
                Clock.systemUTC(),
                GuestMemorySettings.DAEMON.withQemuPidDir(Optional.of(pids)));
        PolicyConfig config = PolicyConfig.defaults();
        policy = new PolicyStep(
                config.policy(), mode -> config.withMode(mode).policy(), config.interval(), host, true, r -> {});
        PostureScorer posture = PostureScorer.of(host);
        loop = new SnapshotLoop(host, Duration.ofMillis(200), Clock.systemUTC(), List.of(policy, posture::score));
        api = new ApiServer(
                loop,
                posture,
                policy,
                new ProbeRunner(host, Clock.systemUTC()),
                "127.0.0.1",
                0,
                Optional.empty(),
                () -> "",
                Map.of());
        // The daemon's budget does a pass in pieces: sample until web's first pass is done.
        for (int i = 0;
                i < 200
                        && loop.latest()
                                .flatMap(s -> s.vms().stream()
                                        .filter(v -> v.domain().name().equals("web"))
                                        .findFirst()
                                        .flatMap(v -> v.guestMemory()))
                                .isEmpty();
                i++) {
            loop.tick();
        }
        api.start();
        loop.start();
        URI base = URI.create("http://127.0.0.1:" + api.port());
        HttpClient http = HttpClient.newHttpClient();
        JsonNode vm = Json.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(base.resolve("/api/v1/vms/web"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body());
        assertEquals(ZERO * PAGE, vm.get("reclaimed_bytes").asLong(), vm.toString());
        assertEquals(ZERO, vm.at("/guest_memory/pages/zero").asLong());
        assertEquals(2000 - ZERO, vm.at("/guest_memory/pages/resident").asLong(), "the pages measured resident");
        JsonNode snapshot = Json.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(base.resolve("/api/v1/snapshot"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body());
        assertEquals(
                ZERO, vm(snapshot, "web").at("/guest_memory/pages/zero").asLong(), "the snapshot's VM record has it");
        assertEquals(
                2000 - ZERO,
                vm(snapshot, "web").at("/guest_memory/pages/resident").asLong());
        HttpResponse<InputStream> stream = http.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/stream"))
                        .header("Accept", "text/event-stream")
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    JsonNode event = Json.mapper().readTree(line.substring(6));
                    assertEquals(
                            ZERO * PAGE, vm(event, "web").get("reclaimed_bytes").asLong(), event.toString());
                    assertTrue(
                            vm(event, "web").get("reclaimed_method").asText().startsWith("pagemap_scan"),
                            event.toString());
                    break;
                }
            }
        }
    }

    /** The VM called {@code name} in a document's "vms" (libvirt's order is its own). */
    private static JsonNode vm(JsonNode document, String name) {
        for (JsonNode vm : document.get("vms")) {
            if (vm.at("/domain/name").asText().equals(name)) {
                return vm;
            }
        }
        throw new AssertionError("no VM " + name + " in " + document);
    }
}
