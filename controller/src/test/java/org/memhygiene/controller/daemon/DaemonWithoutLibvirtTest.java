package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.api.LoopbackApi;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;

/**
 * The daemon on a libvirt that never answers (a test-driver file that is not there: libvirt refuses to
 * open it, as it does a qemu:///system without libvirtd): KSM and the host's memory are still sampled and
 * served, and libvirt shows down in /metrics and GET /api/v1/status.
 */
class DaemonWithoutLibvirtTest {

    @Test
    void ksmAndHostMemoryAreServedAndLibvirtShowsDown(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(
                new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), 4096).available(),
                "skipped: a kernel without KSM has no KSM source");
        String uri = "test://" + dir.resolve("no-such-host.xml");
        DaemonConfig d = DaemonConfig.defaults();
        DaemonConfig settings = new DaemonConfig(
                uri,
                Duration.ofMillis(500),
                d.agentTimeout(),
                d.agentInterval(),
                "127.0.0.1",
                0,
                Optional.empty(),
                true,
                dir.resolve("history"),
                d.historyRetention(),
                d.historyInterval(),
                Optional.empty());
        LinuxHost host = new LinuxHost(
                uri,
                Duration.ofSeconds(1),
                Duration.ZERO,
                KsmSysfs.DEFAULT_ROOT,
                ProcessKsmReader.DEFAULT_ROOT,
                Path.of("/sys"),
                Clock.systemUTC());
        try (Daemon daemon = Daemon.start(host, settings, true, Clock.systemUTC())) {
            JsonNode status = Json.mapper().readTree(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/status"));
            assertTrue(status.get("samples").asLong() >= 1, status.toString());
            JsonNode sources = status.get("sources");
            assertEquals("ksm", sources.get(0).get("name").asText(), sources.toString());
            assertTrue(sources.get(0).get("up").asBoolean(), sources.toString());
            assertEquals("host_memory", sources.get(1).get("name").asText());
            assertTrue(sources.get(1).get("up").asBoolean(), sources.toString());
            JsonNode libvirt = sources.get(2);
            assertEquals("libvirt", libvirt.get("name").asText());
            assertFalse(libvirt.get("up").asBoolean());
            assertFalse(libvirt.get("stale").asBoolean(), "never read: no figures to be stale");
            assertTrue(libvirt.get("error").asText().contains(uri), libvirt.toString());

            JsonNode snapshot = Json.mapper().readTree(LoopbackApi.getOk(daemon.apiPort(), "/api/v1/snapshot"));
            assertTrue(snapshot.at("/ksm/stats/pages_to_scan").isNumber(), "KSM is served: " + snapshot.get("ksm"));
            assertTrue(snapshot.at("/memory/mem_total_bytes").asLong() > 0, "host memory is served");
            assertEquals(0, snapshot.get("vms").size());

            String metrics = LoopbackApi.getOk(daemon.apiPort(), "/metrics");
            assertTrue(metrics.contains("memhygiene_source_up{source=\"libvirt\"} 0.0"), metrics);
            assertTrue(metrics.contains("memhygiene_source_up{source=\"ksm\"} 1.0"), metrics);
            assertTrue(metrics.contains("memhygiene_ksm_pages_to_scan "), "the KSM metrics are there");
            assertTrue(metrics.contains("memhygiene_sample_failures_total 0.0"), "no sample failed as a whole");
        }
    }
}
